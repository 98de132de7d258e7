"""Knowledge-base benchmark: retrieval quality on the held-out set and query latency.

    python scripts/bench_kb.py [--rounds 20] [--json]

Prints README-ready Markdown: hit@1, hit@3, MRR, confident-wrong rate per language on the
held-out and the blind question sets (knowledge_base/eval/), then
latency percentiles of `KnowledgeBase.search` over every held-out question (repeated
`--rounds` times after a warm-up), of hostile inputs, and of a full article reload.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge_base import KnowledgeBase
from knowledge_base.evaluation import (
    BLIND_QUESTIONS_FILE,
    QUESTIONS_FILE,
    evaluate,
    load_questions,
    metrics_markdown,
)

HOSTILE = [
    "",
    "😀" * 200,
    "<script>alert(1)</script>" * 50,
    "refund " * 20_000,
    "卡密已被使用" * 20_000,
    "\x00\x01" * 1000,
]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed(kb: KnowledgeBase, questions: list[tuple[str, str]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for text, language in questions:
            start = time.perf_counter()
            kb.search(text, language, k=3)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "max_ms": round(max(samples), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()

    start = time.perf_counter()
    kb = KnowledgeBase(refresh_seconds=3600)  # file checks are measured separately below
    kb.search("warm up", "zh")
    cold_start = time.perf_counter() - start

    rows = [("held-out", evaluate(kb, QUESTIONS_FILE)[0])]
    rows += [(f"held-out {lang}", evaluate(kb, QUESTIONS_FILE, lang)[0]) for lang in ("zh", "en")]
    if BLIND_QUESTIONS_FILE.exists():  # written by someone who never saw the articles
        rows += [("blind", evaluate(kb, BLIND_QUESTIONS_FILE)[0])]
        rows += [
            (f"blind {lang}", evaluate(kb, BLIND_QUESTIONS_FILE, lang)[0]) for lang in ("zh", "en")
        ]

    questions = [(q.text, q.language) for q in load_questions(QUESTIONS_FILE)]
    timed(kb, questions, 1)  # warm-up
    latency = {
        "all": summary(timed(kb, questions, args.rounds)),
        "zh": summary(timed(kb, [q for q in questions if q[1] == "zh"], args.rounds)),
        "en": summary(timed(kb, [q for q in questions if q[1] == "en"], args.rounds)),
        "hostile": summary(timed(kb, [(h, "zh") for h in HOSTILE], args.rounds)),
    }
    kb.refresh_seconds = 0.0  # every query now also checks the files for edits
    latency["with file check"] = summary(timed(kb, questions, 2))
    reloads = []
    for _ in range(5):
        t = time.perf_counter()
        kb._rebuild_if_stale(force=True)
        reloads.append((time.perf_counter() - t) * 1000)

    articles = {lang: len(kb.store.all(lang)) for lang in ("zh", "en")}
    if args.json:
        print(
            json.dumps(
                {
                    "articles": articles,
                    "threshold": kb.threshold,
                    "metrics": {
                        name: {k: v for k, v in vars(m).items() if k != "failures"}
                        for name, m in rows
                    },
                    "latency": latency,
                    "cold_start_s": round(cold_start, 3),
                    "reload_ms_median": round(statistics.median(reloads), 1),
                },
                indent=2,
            )
        )
        return 0

    print(
        f"## Knowledge base benchmark ({platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()})\n"
    )
    print(
        f"Articles: zh {articles['zh']}, en {articles['en']}. "
        f"Held-out questions: {len(questions)}.\n"
    )
    print(metrics_markdown(rows, kb.threshold))
    print("\n| Query latency (`search`, k=3) | queries | p50 | p95 | p99 | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, s in latency.items():
        print(
            f"| {name} | {s['n']} | {s['p50_ms']:.2f} ms | {s['p95_ms']:.2f} ms "
            f"| {s['p99_ms']:.2f} ms | {s['max_ms']:.2f} ms |"
        )
    print(
        f"\nCold start (load articles, jieba, build indexes): {cold_start:.2f} s; "
        f"full re-index after an edit: {statistics.median(reloads):.0f} ms (median of 5)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
