"""`kamidesk nlu ...`: parse, evaluate, train, check the training data."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)

BackendOpt = Annotated[
    str, typer.Option("--backend", help="embedded (in-process) or rasa (RASA_URL server)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
DEFAULT_RASA_URL = "http://127.0.0.1:5005"


def config_from_settings(settings=None):  # type: ignore[no-untyped-def]
    """The nlu package's config built from kamidesk's settings (as the container builds it)."""
    from kamidesk.bootstrap import nlu_config
    from kamidesk.settings import get_settings

    return nlu_config(settings or get_settings())


def _parser(backend: str, *, fallback: bool):  # type: ignore[no-untyped-def]
    from nlu import build_parser

    if backend not in ("embedded", "rasa"):
        typer.echo(f"error: unknown backend {backend!r} (embedded or rasa)", err=True)
        raise typer.Exit(2)
    config = config_from_settings()
    if backend == "rasa":
        config = replace(
            config,
            rasa_url=config.rasa_url or DEFAULT_RASA_URL,
            rasa_fallback_to_embedded=fallback,
        )
    return build_parser(config, backend=backend)


@app.command("parse")
def parse(
    text: str,
    backend: BackendOpt = "embedded",
    as_json: JsonOpt = False,
) -> None:
    """Parse one message and show intent, confidence and entities."""
    from nlu import NLUError

    try:
        result = _parser(backend, fallback=False).parse(text)
    except NLUError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    intent = result["intent"]
    typer.echo(f"intent: {intent['name']} ({intent['confidence']:.2f})")
    for alt in result["intent_ranking"][1:4]:
        typer.echo(f"   alt: {alt['name']} ({alt['confidence']:.2f})")
    for ent in result["entities"]:
        typer.echo(f"entity: {ent['entity']} = {ent['value']!r} [{ent['start']}:{ent['end']}]")


@app.command("evaluate")
def evaluate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Rasa-format YAML (default: held-out test set; with "
            "--cross-validation: the training data)"
        ),
    ] = None,
    backend: BackendOpt = "embedded",
    as_json: JsonOpt = False,
    cross_validation: Annotated[
        int, typer.Option("--cross-validation", min=0, help="k-fold CV on the training data")
    ] = 0,
    misses: Annotated[int, typer.Option("--misses", min=0, help="List N misclassified")] = 0,
) -> None:
    """Accuracy, macro F1, per-intent scores with confusions, order_id precision/recall."""
    from nlu import NLUError
    from nlu.config import TEST_DATA_FILE, TRAIN_DATA_DIR
    from nlu.evaluation import cross_validate
    from nlu.evaluation import evaluate as run_evaluation
    from nlu.report import render
    from nlu.training_data import load_training_data

    try:
        if cross_validation:
            if backend != "embedded":
                typer.echo(
                    "error: --cross-validation is for the embedded backend; for Rasa "
                    "use `bash scripts/rasa.sh cross-validate N`",
                    err=True,
                )
                raise typer.Exit(2)
            data = load_training_data([path or TRAIN_DATA_DIR])
            config = replace(config_from_settings(), data_paths=(path or TRAIN_DATA_DIR,))
            report = cross_validate(data, folds=cross_validation, config=config)
        else:
            examples = load_training_data([path or TEST_DATA_FILE]).examples
            parser = _parser(backend, fallback=False)
            report = run_evaluation(parser.parse, examples, backend=backend)
    except (NLUError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render(report, misses=misses))


@app.command("train")
def train() -> None:
    """Train (or load from cache) the embedded model and say where it lives."""
    from nlu import EmbeddedParser, NLUError
    from nlu.embedded import cache_path, model_key

    config = config_from_settings()
    started = time.perf_counter()
    try:
        parser = EmbeddedParser.load_or_train(config)
    except NLUError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    took = time.perf_counter() - started
    typer.echo(f"model: {model_key(config)[:20]} ({parser.model.trained_on} examples)")
    typer.echo(f"cache: {cache_path(config, model_key(config)) or 'disabled'}")
    typer.echo(f"ready in {took:.2f}s (training alone took {parser.model.train_seconds:.2f}s)")


@app.command("check-data")
def check_data(
    minimum: Annotated[int, typer.Option("--min", help="Required examples per intent")] = 40,
) -> None:
    """Check the training data: examples per intent, duplicates, overlap with the held-out
    and blind test sets."""
    from nlu import NLUError
    from nlu.checks import check_training_data
    from nlu.config import BLIND_DATA_FILE, BLIND_LANG_FILE, TEST_DATA_FILE, TRAIN_DATA_DIR

    blind = [path for path in (BLIND_DATA_FILE, BLIND_LANG_FILE) if path.exists()]
    try:
        problems, counts = check_training_data(
            TRAIN_DATA_DIR, TEST_DATA_FILE, minimum=minimum, blind=blind
        )
    except NLUError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for intent, count in sorted(counts.items()):
        typer.echo(f"{intent:22} {count:4d}")
    for problem in problems:
        typer.echo(f"problem: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"ok: {sum(counts.values())} examples, {len(counts)} intents")
