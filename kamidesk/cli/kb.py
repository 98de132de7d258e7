"""`kamidesk kb ...`: ask, evaluate, calibrate, report, check the articles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)

ArticlesOpt = Annotated[
    Path | None, typer.Option("--articles", help="Article directory (default: packaged set)")
]


def _kb(articles: Path | None):  # type: ignore[no-untyped-def]
    from knowledge_base import KnowledgeBase
    from knowledge_base.engine import ARTICLES_DIR

    return KnowledgeBase(articles or ARTICLES_DIR)


@app.command("ask")
def ask(
    question: str,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en (default: guess)")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=20, help="Candidates to show")] = 3,
    articles: ArticlesOpt = None,
) -> None:
    """Ask the knowledge base a question, as a customer would."""
    result = _kb(articles).search(question, lang, k)
    if not result.answers:
        typer.echo("No confident answer (nothing matched).")
        raise typer.Exit(1)
    verdict = "confident answer" if result.confident else "no confident answer"
    typer.echo(f"[{result.language}] {verdict} (threshold {result.threshold:.2f})")
    for rank, answer in enumerate(result.answers, 1):
        mark = "*" if rank == 1 and result.confident else " "
        typer.echo(
            f"{mark}{rank}. {answer.score:.2f}  {answer.article.id}  {answer.article.title}"
        )
        typer.echo(f"      {answer.snippet}")
    if not result.confident:
        raise typer.Exit(1)


@app.command("evaluate")
def evaluate(
    questions: Annotated[Path | None, typer.Option(help="Question set (YAML)")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Only zh or only en")] = None,
    show_failures: Annotated[bool, typer.Option("--failures", help="List misses")] = False,
    sweep: Annotated[bool, typer.Option("--sweep", help="Show other thresholds")] = False,
    threshold: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Override the fitted threshold")
    ] = None,
    min_hit1: Annotated[
        float | None, typer.Option("--min-hit1", help="Exit 1 if hit@1 is lower (CI gate)")
    ] = None,
    max_wrong: Annotated[
        float | None,
        typer.Option("--max-wrong", help="Exit 1 if the confident-wrong rate is higher"),
    ] = None,
    articles: ArticlesOpt = None,
) -> None:
    """Score retrieval on the held-out question set: hit@1, hit@3, MRR, confident-wrong."""
    from dataclasses import replace

    from knowledge_base.errors import KnowledgeBaseError
    from knowledge_base.evaluation import (
        QUESTIONS_FILE,
        evaluate,
        metrics_markdown,
        threshold_sweep,
    )

    kb = _kb(articles)
    if threshold is not None:
        kb.calibration = replace(kb.calibration, threshold=threshold)
    path = questions or QUESTIONS_FILE
    try:
        rows = [("all", *evaluate(kb, path))]
        if lang is None:
            rows += [(code, *evaluate(kb, path, code)) for code in ("zh", "en")]
        else:
            rows = [(lang, *evaluate(kb, path, lang))]
    except KnowledgeBaseError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(metrics_markdown([(name, m) for name, m, _ in rows], kb.threshold))
    if sweep:
        typer.echo("\n" + threshold_sweep(rows[0][2]))
    if show_failures:
        for outcome in rows[0][1].failures:
            q = outcome.question
            got = ", ".join(outcome.ranked_topics[:3]) or "-"
            flag = "confident" if outcome.confident else "not confident"
            typer.echo(f"- [{q.language}] {q.text!r}: want {list(q.expect)}, got {got} ({flag})")
    overall = rows[0][1]
    if min_hit1 is not None and overall.hit_at_1 < min_hit1:
        typer.echo(f"FAIL: hit@1 {overall.hit_at_1:.3f} < {min_hit1}", err=True)
        raise typer.Exit(1)
    if max_wrong is not None and overall.confident_wrong > max_wrong:
        typer.echo(f"FAIL: confident-wrong {overall.confident_wrong:.3f} > {max_wrong}", err=True)
        raise typer.Exit(1)


@app.command("calibrate")
def calibrate(
    max_wrong: Annotated[float, typer.Option(help="Allowed confident-wrong share")] = 0.05,
    write: Annotated[bool, typer.Option(help="Save knowledge_base/calibration.json")] = False,
    articles: ArticlesOpt = None,
) -> None:
    """Fit the confidence model on the calibration set (never on the held-out questions)."""
    from knowledge_base.calibration import CALIBRATION_FILE, FEATURES
    from knowledge_base.evaluation import calibrate as fit_calibration

    model = fit_calibration(_kb(articles), max_wrong_rate=max_wrong)
    for name, weight in zip(FEATURES, model.weights, strict=True):
        typer.echo(f"{name:>14}: {weight:+.3f}")
    typer.echo(f"{'bias':>14}: {model.bias:+.3f}\n{'threshold':>14}: {model.threshold:.3f}")
    if write:
        model.save(CALIBRATION_FILE)
        typer.echo(f"saved {CALIBRATION_FILE}")


@app.command("check")
def check(articles: ArticlesOpt = None) -> None:
    """Validate the article files: format, duplicate ids, missing translations."""
    kb = _kb(articles)
    all_articles = kb.store.all()
    problems = list(kb.store.errors)
    topics: dict[str, set[str]] = {}
    for article in all_articles:
        topics.setdefault(article.topic, set()).add(article.language)
    problems += [
        f"topic {topic!r} has no {lang} article"
        for topic, langs in sorted(topics.items())
        for lang in ("zh", "en")
        if lang not in langs
    ]
    by_lang = {lang: len(kb.store.all(lang)) for lang in ("zh", "en")}
    typer.echo(f"{len(all_articles)} articles (zh {by_lang['zh']}, en {by_lang['en']})")
    for problem in problems:
        typer.echo(f"- {problem}")
    if kb.store.errors:
        raise typer.Exit(1)


@app.command("report")
def report(
    days: Annotated[int, typer.Option(min=1, help="Look back this many days")] = 30,
    limit: Annotated[int, typer.Option(min=1, help="Rows per section")] = 20,
    min_votes: Annotated[int, typer.Option(min=1, help="Votes before an article is judged")] = 3,
) -> None:
    """What to write next: unanswered questions and articles marked unhelpful (Markdown)."""
    from sqlalchemy.exc import SQLAlchemyError

    from kamidesk.db import make_engine, make_session_factory
    from kamidesk.settings import get_settings
    from knowledge_base import KnowledgeBaseService
    from knowledge_base.reporting import report_markdown

    engine = make_engine(get_settings().database_url)
    service = KnowledgeBaseService(_kb(None), make_session_factory(engine))
    since = datetime.now(UTC) - timedelta(days=days)
    try:
        data = service.report(since=since, limit=limit, min_votes=min_votes)
    except SQLAlchemyError as exc:
        typer.echo(
            f"error: cannot read the database ({exc.__class__.__name__}); "
            "run `kamidesk db upgrade` first",
            err=True,
        )
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(report_markdown(data, service.titles()))
