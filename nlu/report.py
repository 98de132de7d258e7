"""Plain-text / markdown rendering of evaluation reports."""

from __future__ import annotations

from collections.abc import Sequence

from nlu.evaluation import EvaluationReport


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def render(report: EvaluationReport, *, misses: int = 0) -> str:
    """A human-readable report: headline figures, a per-intent table, optional misses."""
    lines = [
        f"backend: {report.backend}   examples: {report.examples}",
        f"accuracy: {_pct(report.accuracy)}   macro F1: {_pct(report.macro_f1)}   "
        f"nlu_fallback: {_pct(report.fallback_rate)}",
        f"{report.entity}: precision {_pct(report.entity_precision)}   "
        f"recall {_pct(report.entity_recall)}   (support {report.entity_support})",
        "",
        "| intent | precision | recall | F1 | support | confused with |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for s in report.intents:
        confused = ", ".join(f"{name} ×{count}" for name, count in s.confused_with) or "-"
        lines.append(
            f"| {s.intent} | {_pct(s.precision)} | {_pct(s.recall)} | {_pct(s.f1)} "
            f"| {s.support} | {confused} |"
        )
    if misses and report.misses:
        lines += ["", f"misclassified (first {min(misses, len(report.misses))}):"]
        for miss in report.misses[:misses]:
            lines.append(
                f"- {miss.text!r}: expected {miss.expected}, got {miss.predicted} "
                f"({miss.confidence:.2f})"
            )
    return "\n".join(lines)


def side_by_side(reports: Sequence[EvaluationReport]) -> str:
    """A markdown table comparing backends on the same examples."""
    header = "| metric | " + " | ".join(r.backend for r in reports) + " |"
    rule = "|---|" + "---:|" * len(reports)
    rows = [
        ("examples", [str(r.examples) for r in reports]),
        ("accuracy", [_pct(r.accuracy) for r in reports]),
        ("macro F1", [_pct(r.macro_f1) for r in reports]),
        ("nlu_fallback rate", [_pct(r.fallback_rate) for r in reports]),
        ("order_id precision", [_pct(r.entity_precision) for r in reports]),
        ("order_id recall", [_pct(r.entity_recall) for r in reports]),
    ]
    body = [f"| {name} | " + " | ".join(values) + " |" for name, values in rows]
    return "\n".join([header, rule, *body])
