"""Benchmark the NLU backends: quality on the held-out set, latency, throughput, load time.

    .venv/bin/python scripts/bench_nlu.py                 # embedded, plus Rasa if reachable
    .venv/bin/python scripts/bench_nlu.py --backend rasa  # only Rasa (RASA_URL, RASA_TOKEN)
    .venv/bin/python scripts/bench_nlu.py --compare-models  # how the embedded model was chosen
    .venv/bin/python scripts/bench_nlu.py --json

Rasa is looked for at $RASA_URL (default http://127.0.0.1:5005, token $RASA_TOKEN or the
development token of scripts/rasa.sh). Latency is per sequential `parse` call over the
held-out texts, repeated; throughput is sequential parses per second on one client thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlu import EmbeddedParser, NLUConfig, RasaParser  # noqa: E402
from nlu.classifier import MODEL_KINDS  # noqa: E402
from nlu.config import TEST_DATA_FILE, TRAIN_DATA_DIR  # noqa: E402
from nlu.embedded import train_model  # noqa: E402
from nlu.evaluation import cross_validate, evaluate  # noqa: E402
from nlu.training_data import load_training_data  # noqa: E402

DEV_TOKEN = "kamidesk-dev-token"
LOAD_SNIPPET = """
import time
t0 = time.perf_counter()
from nlu import EmbeddedParser, NLUConfig
from pathlib import Path
t1 = time.perf_counter()
parser = EmbeddedParser.load_or_train(NLUConfig(cache_dir=Path({cache!r})))
t2 = time.perf_counter()
parser.parse("warm up")
print(t1 - t0, t2 - t1)
"""


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def timing(parse: Any, texts: list[str], repeat: int) -> dict[str, float]:
    for text in texts[:20]:
        parse(text)  # warm-up
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            t0 = time.perf_counter()
            parse(text)
            latencies.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    huge = "退款 refund " * 10_000  # ~100 KB
    t0 = time.perf_counter()
    parse(huge)
    return {
        "calls": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "throughput_per_s": len(latencies) / total,
        "parse_100kb_ms": (time.perf_counter() - t0) * 1000,
    }


def bench_embedded(texts: list[str], examples: list[Any], repeat: int) -> dict[str, Any]:
    data = load_training_data([TRAIN_DATA_DIR])
    config = NLUConfig(cache_dir=None)
    model = train_model(data, config)
    parser = EmbeddedParser(model, config)
    with tempfile.TemporaryDirectory() as cache:
        EmbeddedParser.load_or_train(replace(config, cache_dir=Path(cache)))  # fill the cache
        out = subprocess.run(
            [sys.executable, "-c", LOAD_SNIPPET.format(cache=cache)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        import_s, load_s = (float(x) for x in out.stdout.split())
    report = evaluate(parser.parse, examples, backend="embedded")
    cv = cross_validate(data, folds=5, config=config)
    return {
        "report": report.to_dict(),
        "cv5": {"accuracy": cv.accuracy, "macro_f1": cv.macro_f1},
        "train_s": model.train_seconds,
        "import_s": import_s,
        "cached_load_s": load_s,
        **timing(parser.parse, texts, repeat),
    }


def bench_rasa(url: str, token: str, texts: list[str], examples: list[Any], repeat: int):
    parser = RasaParser(url, token=token, timeout=30.0)
    try:
        parser.parse("ping")
    except Exception as exc:  # report why Rasa is skipped instead of failing the benchmark
        print(f"rasa: not benchmarked ({exc})", file=sys.stderr)
        return None
    report = evaluate(parser.parse, examples, backend="rasa")
    result = {"report": report.to_dict(), **timing(parser.parse, texts, repeat)}
    cv_file = Path(os.environ.get("KAMIDESK_RASA_HOME", Path.home() / ".cache/kamidesk/rasa"))
    cv_file = cv_file / "results-cv" / "intent_report.json"
    if cv_file.exists():  # written by `bash scripts/rasa.sh cross-validate 5`
        cv = json.loads(cv_file.read_text())
        result["cv5"] = {"accuracy": cv["accuracy"], "macro_f1": cv["macro avg"]["f1-score"]}
    parser.close()
    return result


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn: Any) -> None:
        values = []
        for name in names:
            try:
                values.append(fn(results[name]))
            except (KeyError, TypeError):
                values.append("n/a")
        rows.append((label, values))

    row("held-out examples", lambda r: str(r["report"]["examples"]))
    row("accuracy (held-out)", lambda r: pct(r["report"]["accuracy"]))
    row("macro F1 (held-out)", lambda r: pct(r["report"]["macro_f1"]))
    row("nlu_fallback rate (held-out)", lambda r: pct(r["report"]["fallback_rate"]))
    row(
        "order_id precision / recall",
        lambda r: f"{pct(r['report']['entity_precision'])} / {pct(r['report']['entity_recall'])}",
    )
    row("5-fold CV accuracy (train)", lambda r: pct(r["cv5"]["accuracy"]))
    row("5-fold CV macro F1 (train)", lambda r: pct(r["cv5"]["macro_f1"]))
    row("parse latency p50", lambda r: f"{r['p50_ms']:.2f} ms")
    row("parse latency p99", lambda r: f"{r['p99_ms']:.2f} ms")
    row("throughput (1 client, sequential)", lambda r: f"{r['throughput_per_s']:.0f} /s")
    row("parse 100 KB text", lambda r: f"{r['parse_100kb_ms']:.1f} ms")
    row("training time", lambda r: f"{r['train_s']:.1f} s")
    row(
        "load from cache (+ import)",
        lambda r: f"{r['cached_load_s'] * 1000:.0f} ms (+ {r['import_s'] * 1000:.0f} ms)",
    )
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {label} | " + " | ".join(values) + " |" for label, values in rows]
    return "\n".join(lines)


def compare_models() -> str:
    data = load_training_data([TRAIN_DATA_DIR])
    examples = load_training_data([TEST_DATA_FILE]).examples
    lines = [
        "| model | CV5 accuracy | CV5 macro F1 | held-out accuracy | train s |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in MODEL_KINDS:
        config = NLUConfig(cache_dir=None)
        model = train_model(data, config, kind=kind)
        held_out = evaluate(EmbeddedParser(model, config).parse, examples)
        cv = cross_validate(data, folds=5, config=config, kind=kind)
        lines.append(
            f"| {kind} | {pct(cv.accuracy)} | {pct(cv.macro_f1)} | "
            f"{pct(held_out.accuracy)} | {model.train_seconds:.1f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["all", "embedded", "rasa"], default="all")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the held-out texts")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--compare-models", action="store_true")
    args = parser.parse_args()
    if args.compare_models:
        print(compare_models())
        return 0
    examples = load_training_data([TEST_DATA_FILE]).examples
    texts = [ex.text for ex in examples]
    results: dict[str, dict[str, Any]] = {}
    if args.backend in ("all", "embedded"):
        results["embedded"] = bench_embedded(texts, examples, args.repeat)
    if args.backend in ("all", "rasa"):
        url = os.environ.get("RASA_URL", "http://127.0.0.1:5005")
        token = os.environ.get("RASA_TOKEN", DEV_TOKEN)
        rasa = bench_rasa(url, token, texts, examples, max(1, args.repeat // 2))
        if rasa is not None:
            results["rasa"] = rasa
        elif args.backend == "rasa":
            return 1
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
