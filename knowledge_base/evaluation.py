"""Measuring retrieval on a question set, and fitting the confidence model.

A question set is YAML: ``questions: [{q, lang, expect: [topic, ...]}]``; an empty `expect`
means the knowledge base has no answer and the right behaviour is "no confident answer".

Metrics (over questions that have an answer unless said otherwise):
- hit@1 / hit@3: an expected article is the first / among the first three candidates;
- MRR: mean of 1 / rank of the first expected article (0 when not in the top 10);
- answered: share of those questions that get a confident answer;
- confident-wrong rate: share of ALL questions (including unanswerable ones) where a confident
  answer is shown and it is not an expected article — what a customer would be misled by.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge_base.calibration import Calibration, Features, fit
from knowledge_base.engine import KnowledgeBase
from knowledge_base.errors import KnowledgeBaseError

EVAL_DIR = Path(__file__).with_name("eval")
QUESTIONS_FILE = EVAL_DIR / "questions.yml"
# Written by someone who never saw the articles; labelled afterwards; never tuned on.
BLIND_QUESTIONS_FILE = EVAL_DIR / "blind_questions.yml"
CALIBRATION_SET = EVAL_DIR / "calibration.yml"
RANK_DEPTH = 10


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    expect: tuple[str, ...]  # article topics; empty = no answer exists


@dataclass
class Outcome:
    question: Question
    ranked_topics: list[str]
    confident: bool
    seconds: float
    top_score: float = 0.0


@dataclass
class Metrics:
    """Retrieval quality over one question set (see module docstring)."""

    questions: int = 0
    answerable: int = 0
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    mrr: float = 0.0
    answered: float = 0.0
    confident_wrong: float = 0.0
    unanswerable_refused: float = 0.0
    failures: list[Outcome] = field(default_factory=list)


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    """Read a question set, rejecting malformed entries with a clear message."""
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"cannot read question set {path}: {exc}") from exc
    out = []
    for i, item in enumerate(data.get("questions") or []):
        if not isinstance(item, dict) or "q" not in item or item.get("lang") not in ("zh", "en"):
            raise KnowledgeBaseError(f"{path}: entry {i} needs 'q' and 'lang' (zh or en)")
        out.append(Question(str(item["q"]), item["lang"], tuple(item.get("expect") or ())))
    return out


def run(kb: KnowledgeBase, questions: list[Question]) -> list[Outcome]:
    """Ask every question; record the ranked topics, the verdict and the time taken."""
    outcomes = []
    for question in questions:
        start = time.perf_counter()
        result = kb.search(question.text, question.language, k=RANK_DEPTH)
        seconds = time.perf_counter() - start
        topics = [a.article.topic for a in result.answers]
        top = result.answers[0].score if result.answers else 0.0
        outcomes.append(Outcome(question, topics, result.confident, seconds, top))
    return outcomes


def score(outcomes: list[Outcome]) -> Metrics:
    """Compute the metrics of a run."""
    m = Metrics(questions=len(outcomes))
    if not outcomes:
        return m
    answerable = [o for o in outcomes if o.question.expect]
    unanswerable = [o for o in outcomes if not o.question.expect]
    m.answerable = len(answerable)
    hits1 = hits3 = answered = 0
    rr = 0.0
    for o in answerable:
        rank = next((i + 1 for i, t in enumerate(o.ranked_topics) if t in o.question.expect), None)
        hits1 += rank == 1
        hits3 += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0.0
        answered += o.confident
        if rank != 1:
            m.failures.append(o)
    wrong = 0
    for o in outcomes:
        if o.confident and o.ranked_topics[0] not in o.question.expect:
            wrong += 1
            if not o.question.expect:
                m.failures.append(o)
    if answerable:
        m.hit_at_1, m.hit_at_3 = hits1 / len(answerable), hits3 / len(answerable)
        m.mrr, m.answered = rr / len(answerable), answered / len(answerable)
    m.confident_wrong = wrong / len(outcomes)
    if unanswerable:
        m.unanswerable_refused = sum(not o.confident for o in unanswerable) / len(unanswerable)
    return m


def evaluate(
    kb: KnowledgeBase, path: Path = QUESTIONS_FILE, language: str | None = None
) -> tuple[Metrics, list[Outcome]]:
    """Run and score a question set (optionally one language only)."""
    questions = [q for q in load_questions(path) if language in (None, q.language)]
    outcomes = run(kb, questions)
    return score(outcomes), outcomes


def calibrate(
    kb: KnowledgeBase, path: Path = CALIBRATION_SET, *, max_wrong_rate: float = 0.05
) -> Calibration:
    """Fit the confidence model on the calibration set (not the held-out questions)."""
    samples: list[tuple[Features, bool]] = []
    for question in load_questions(path):
        candidates = kb.candidates(question.text, question.language, k=1)
        if candidates:
            top = candidates[0]
            samples.append((top.features, top.article.topic in question.expect))
    return fit(samples, max_wrong_rate=max_wrong_rate)


def metrics_markdown(rows: list[tuple[str, Metrics]], threshold: float) -> str:
    """A README-ready Markdown table of metrics, one row per question subset."""
    lines = [
        f"Confidence threshold: {threshold:.3f}",
        "",
        "| Set | Questions (answerable) | hit@1 | hit@3 | MRR | Answered | Confident-wrong "
        "| Unanswerable refused |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in rows:
        lines.append(
            f"| {name} | {m.questions} ({m.answerable}) | {m.hit_at_1:.3f} | {m.hit_at_3:.3f} "
            f"| {m.mrr:.3f} | {m.answered:.1%} | {m.confident_wrong:.1%} "
            f"| {m.unanswerable_refused:.1%} |"
        )
    return "\n".join(lines)


def threshold_sweep(
    outcomes: list[Outcome], thresholds: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)
) -> str:
    """Markdown: how the answered share and confident-wrong rate move with the threshold."""
    lines = [
        "| Threshold | Answered (answerable) | Confident-wrong (all questions) |",
        "|---:|---:|---:|",
    ]
    answerable = [o for o in outcomes if o.question.expect] or outcomes
    for t in thresholds:
        shown = [o for o in outcomes if o.ranked_topics and o.top_score >= t]
        wrong = sum(o.ranked_topics[0] not in o.question.expect for o in shown)
        answered = sum(o.top_score >= t for o in answerable if o.ranked_topics)
        lines.append(
            f"| {t:.2f} | {answered / len(answerable):.1%} | {wrong / max(1, len(outcomes)):.1%} |"
        )
    return "\n".join(lines)
