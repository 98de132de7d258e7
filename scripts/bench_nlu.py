"""Benchmark the NLU backends: quality on the held-out, blind and public sets, calibration,
latency, throughput, load time.

    .venv/bin/python scripts/bench_nlu.py                   # embedded, plus Rasa if reachable
    .venv/bin/python scripts/bench_nlu.py --backend rasa    # only Rasa (RASA_URL, RASA_TOKEN)
    .venv/bin/python scripts/bench_nlu.py --compare-models  # how the embedded model was chosen
    .venv/bin/python scripts/bench_nlu.py --disambiguation  # how the "A or B?" margin was chosen
    .venv/bin/python scripts/bench_nlu.py --json

Sets: the held-out file (nlu/data/test, written by the team apart from the training data), the
blind set (nlu/data/blind, written from the intent definitions only by someone who never saw
the training data: reported per language and per intent, never used to choose anything), the
public English development set (nlu/data/dev: CLINC150 / BANKING77 test splits) and 5-fold
cross-validation on the training data.

Rasa is looked for at $RASA_URL (default http://127.0.0.1:5005, token $RASA_TOKEN or the
development token of scripts/rasa.sh); its cross-validation comes from the report written by
`bash scripts/rasa.sh cross-validate 5`. Latency is per sequential `parse` call over the
held-out and blind texts, repeated; throughput is sequential parses per second on one thread.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlu import EmbeddedParser, NLUConfig, RasaParser  # noqa: E402
from nlu.classifier import MODEL_KINDS  # noqa: E402
from nlu.config import (  # noqa: E402
    BLIND_DATA_FILE,
    BLIND_LANG_FILE,
    DEV_DATA_FILE,
    TEST_DATA_FILE,
    TRAIN_DATA_DIR,
)
from nlu.embedded import train_model  # noqa: E402
from nlu.evaluation import (  # noqa: E402
    calibration,
    cross_validate_results,
    disambiguation_sweep,
    evaluate,
    score,
)
from nlu.training_data import Example, load_training_data  # noqa: E402

DEV_TOKEN = "kamidesk-dev-token"
LANGUAGES = ("zh", "zh-TW", "en", "mixed")
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
    cpu: list[float] = []  # this thread's CPU time: what the parse costs without the
    started = time.perf_counter()  # scheduler's waits on a busy two-core machine
    for _ in range(repeat):
        for text in texts:
            t0, c0 = time.perf_counter(), time.thread_time()
            parse(text)
            cpu.append(time.thread_time() - c0)
            latencies.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    huge = "退款 refund " * 10_000  # ~100 KB
    t0 = time.perf_counter()
    parse(huge)
    return {
        "calls": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "cpu_p50_ms": percentile(cpu, 50) * 1000,
        "cpu_p99_ms": percentile(cpu, 99) * 1000,
        "load_average": os.getloadavg()[0],
        "mean_ms": statistics.fmean(latencies) * 1000,
        "throughput_per_s": len(latencies) / total,
        "parse_100kb_ms": (time.perf_counter() - t0) * 1000,
    }


def blind_languages() -> dict[str, str]:
    """Blind text -> language (zh, zh-TW, en, mixed) from the TSV written beside the YAML."""
    with BLIND_LANG_FILE.open(encoding="utf-8", newline="") as fh:
        return {row[-1].strip(): row[0] for row in csv.reader(fh, delimiter="\t") if row}


def quality(parse: Any, sets: dict[str, list[Example]], backend: str) -> dict[str, Any]:
    """Reports for every set, the blind one also per language; plus calibration."""
    out: dict[str, Any] = {}
    languages = blind_languages() if "blind" in sets else {}
    for name, examples in sets.items():
        results = [parse(ex.text) for ex in examples]
        report = score(examples, results, backend=backend)
        out[name] = report.to_dict()
        out[name]["calibration"] = asdict(calibration(examples, results))
        if name == "blind":
            by_lang: dict[str, list[int]] = defaultdict(list)
            for i, ex in enumerate(examples):
                by_lang[languages.get(ex.text.strip(), "unknown")].append(i)
            out["blind_by_language"] = {
                lang: score(
                    [examples[i] for i in idx], [results[i] for i in idx], backend=backend
                ).to_dict()
                for lang, idx in sorted(by_lang.items())
            }
    return out


def evaluation_sets() -> dict[str, list[Example]]:
    sets = {
        "held_out": load_training_data([TEST_DATA_FILE]).examples,
        "dev": load_training_data([DEV_DATA_FILE]).examples,
    }
    if BLIND_DATA_FILE.exists():
        sets["blind"] = load_training_data([BLIND_DATA_FILE]).examples
    return sets


def bench_embedded(sets: dict[str, list[Example]], repeat: int) -> dict[str, Any]:
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
    result = quality(parser.parse, sets, "embedded")
    cv_results = cross_validate_results(data, folds=5, config=config)
    cv = score(data.examples, cv_results, backend="embedded-cv5")
    result["cv5"] = {
        "accuracy": cv.accuracy,
        "macro_f1": cv.macro_f1,
        "calibration": asdict(calibration(data.examples, cv_results)),
    }
    texts = [ex.text for name in ("held_out", "blind") for ex in sets.get(name, [])]
    return {
        **result,
        "train_examples": len(data.examples),
        "train_s": model.train_seconds,
        "import_s": import_s,
        "cached_load_s": load_s,
        **timing(parser.parse, texts, repeat),
    }


def bench_rasa(
    url: str, token: str, sets: dict[str, list[Example]], repeat: int
) -> dict[str, Any] | None:
    parser = RasaParser(url, token=token, timeout=30.0)
    try:
        parser.parse("ping")
    except Exception as exc:  # report why Rasa is skipped instead of failing the benchmark
        print(f"rasa: not benchmarked ({exc})", file=sys.stderr)
        return None
    result = quality(parser.parse, sets, "rasa")
    texts = [ex.text for name in ("held_out", "blind") for ex in sets.get(name, [])]
    result.update(timing(parser.parse, texts, repeat))
    del result["cpu_p50_ms"], result["cpu_p99_ms"]  # the work happens in the server process
    cv_file = Path(os.environ.get("KAMIDESK_RASA_HOME", Path.home() / ".cache/kamidesk/rasa"))
    cv_file = cv_file / "results-cv" / "intent_report.json"
    if cv_file.exists():  # written by `bash scripts/rasa.sh cross-validate 5`
        cv = json.loads(cv_file.read_text())
        result["cv5"] = {"accuracy": cv["accuracy"], "macro_f1": cv["macro avg"]["f1-score"]}
    parser.close()
    return result


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def table(results: dict[str, dict[str, Any]], rows: list[tuple[str, Any]]) -> list[str]:
    names = list(results)
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for label, fn in rows:
        values = []
        for name in names:
            try:
                values.append(fn(results[name]))
            except (KeyError, TypeError):
                values.append("n/a")
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    return lines


def markdown(results: dict[str, dict[str, Any]]) -> str:
    def acc_f1(name: str) -> Any:
        return lambda r: f"{pct(r[name]['accuracy'])} / {pct(r[name]['macro_f1'])}"

    rows: list[tuple[str, Any]] = [
        ("held-out: accuracy / macro F1", acc_f1("held_out")),
        ("blind: accuracy / macro F1", acc_f1("blind")),
        ("public English dev: accuracy / macro F1", acc_f1("dev")),
        ("5-fold CV (train): accuracy / macro F1", acc_f1("cv5")),
        (
            "`nlu_fallback` rate held-out / blind",
            lambda r: (
                f"{pct(r['held_out']['fallback_rate'])} / {pct(r['blind']['fallback_rate'])}"
            ),
        ),
        (
            "calibration error (ECE) CV / blind",
            lambda r: (
                f"{r['cv5']['calibration']['expected_calibration_error']:.3f} / "
                f"{r['blind']['calibration']['expected_calibration_error']:.3f}"
            ),
        ),
        (
            "order_id precision / recall (held-out)",
            lambda r: (
                f"{pct(r['held_out']['entity_precision'])} / {pct(r['held_out']['entity_recall'])}"
            ),
        ),
        (
            "parse latency p50 / p99 (wall clock)",
            lambda r: f"{r['p50_ms']:.2f} ms / {r['p99_ms']:.2f} ms",
        ),
        (
            "parse CPU time p50 / p99 (in process)",
            lambda r: f"{r['cpu_p50_ms']:.2f} ms / {r['cpu_p99_ms']:.2f} ms",
        ),
        ("machine load average while timing", lambda r: f"{r['load_average']:.1f}"),
        ("throughput (1 client, sequential)", lambda r: f"{r['throughput_per_s']:.0f} /s"),
        ("parse 100 KB text", lambda r: f"{r['parse_100kb_ms']:.1f} ms"),
        ("training", lambda r: f"{r['train_s']:.1f} s ({r['train_examples']} examples)"),
        (
            "load from cache (+ import)",
            lambda r: f"{r['cached_load_s'] * 1000:.0f} ms (+ {r['import_s'] * 1000:.0f} ms)",
        ),
    ]
    lines = table(results, rows)
    names = list(results)
    first = next(iter(results.values()))
    if "blind_by_language" in first:
        lines += ["", "Blind set per language (accuracy / macro F1):", ""]
        lines += ["| language | messages | " + " | ".join(names) + " |"]
        lines += ["|---|---:|" + "---:|" * len(names)]
        for lang in [*LANGUAGES, *sorted(set(first["blind_by_language"]) - set(LANGUAGES))]:
            if lang not in first["blind_by_language"]:
                continue
            cells = []
            for name in names:
                rep = results[name].get("blind_by_language", {}).get(lang)
                cells.append(f"{pct(rep['accuracy'])} / {pct(rep['macro_f1'])}" if rep else "n/a")
            count = first["blind_by_language"][lang]["examples"]
            lines.append(f"| {lang} | {count} | " + " | ".join(cells) + " |")
    if "blind" in first:
        lines += ["", "Blind set per intent (recall / precision; main confusions of the first):"]
        lines += ["", "| intent | n | " + " | ".join(names) + " | confused with |"]
        lines += ["|---|---:|" + "---:|" * len(names) + "---|"]
        per = {name: {s["intent"]: s for s in results[name]["blind"]["intents"]} for name in names}
        for intent, s in sorted(per[names[0]].items()):
            cells = []
            for name in names:
                t = per[name].get(intent)
                cells.append(f"{pct(t['recall'])} / {pct(t['precision'])}" if t else "n/a")
            confused = ", ".join(f"{n} ×{c}" for n, c in s["confused_with"][:3]) or "-"
            lines.append(
                f"| {intent} | {s['support']} | " + " | ".join(cells) + f" | {confused} |"
            )
    return "\n".join(lines)


def compare_models() -> str:
    data = load_training_data([TRAIN_DATA_DIR])
    held_out = load_training_data([TEST_DATA_FILE]).examples
    dev = load_training_data([DEV_DATA_FILE]).examples
    lines = [
        "| model | CV5 accuracy | CV5 macro F1 | public dev accuracy | held-out accuracy "
        "| train s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in MODEL_KINDS:
        config = NLUConfig(cache_dir=None)
        model = train_model(data, config, kind=kind)
        parser = EmbeddedParser(model, config)
        cv = score(data.examples, cross_validate_results(data, folds=5, config=config, kind=kind))
        lines.append(
            f"| {kind} | {pct(cv.accuracy)} | {pct(cv.macro_f1)} | "
            f"{pct(evaluate(parser.parse, dev).accuracy)} | "
            f"{pct(evaluate(parser.parse, held_out).accuracy)} | {model.train_seconds:.1f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def disambiguation_table() -> str:
    """How the margin of nlu.disambiguation was chosen: on 5-fold CV predictions, the largest
    margin at which a question still rescues a wrong guess at least as often as it asks in
    vain."""
    data = load_training_data([TRAIN_DATA_DIR])
    config = NLUConfig(cache_dir=None)
    results = cross_validate_results(data, folds=5, config=config)
    margins = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    points = disambiguation_sweep(
        data.examples, results, margins, min_confidence=config.disambiguation_min_confidence
    )
    lines = [
        "| margin | asked | rescued (top wrong, right one offered) | asked in vain "
        "| resolved right |",
        "|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        lines.append(
            f"| {p.margin:.2f} | {pct(p.asked)} | {pct(p.rescued)} | {pct(p.needless)} "
            f"| {pct(p.accuracy)} |"
        )
    best = max((p.margin for p in points if p.rescued >= p.needless), default=None)
    lines.append(f"\nlargest margin with rescued >= asked in vain: {best}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["all", "embedded", "rasa"], default="all")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the texts")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--compare-models", action="store_true")
    parser.add_argument("--disambiguation", action="store_true")
    args = parser.parse_args()
    if args.compare_models:
        print(compare_models())
        return 0
    if args.disambiguation:
        print(disambiguation_table())
        return 0
    sets = evaluation_sets()
    results: dict[str, dict[str, Any]] = {}
    if args.backend in ("all", "embedded"):
        results["embedded"] = bench_embedded(sets, args.repeat)
    if args.backend in ("all", "rasa"):
        url = os.environ.get("RASA_URL", "http://127.0.0.1:5005")
        token = os.environ.get("RASA_TOKEN", DEV_TOKEN)
        rasa = bench_rasa(url, token, sets, max(1, args.repeat // 2))
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
