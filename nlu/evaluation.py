"""Evaluate a parser on Rasa-format examples: accuracy, macro F1, per-intent scores with
confusions, and order_id entity precision/recall. Cross-validation for the embedded backend.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nlu.classifier import DEFAULT_KIND
from nlu.config import FALLBACK_INTENT, NLUConfig
from nlu.embedded import EmbeddedParser, train_model
from nlu.result import ParseResult
from nlu.training_data import Example, TrainingData

ENTITY_SCORED = "order_id"


@dataclass(frozen=True)
class IntentScore:
    """Scores for one intent; `confused_with` lists wrong predictions for its examples."""

    intent: str
    precision: float
    recall: float
    f1: float
    support: int
    confused_with: list[tuple[str, int]]


@dataclass(frozen=True)
class Miss:
    """One misclassified example."""

    text: str
    expected: str
    predicted: str
    confidence: float


@dataclass
class EvaluationReport:
    """The whole evaluation; `to_dict` is the `--json` output."""

    examples: int
    accuracy: float
    macro_f1: float
    fallback_rate: float
    intents: list[IntentScore]
    entity: str
    entity_precision: float
    entity_recall: float
    entity_support: int
    misses: list[Miss] = field(default_factory=list)
    backend: str = "embedded"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dictionary."""
        return asdict(self)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def score(
    examples: Sequence[Example], results: Sequence[ParseResult], *, backend: str = "embedded"
) -> EvaluationReport:
    """Compare parse results with the gold examples (same order)."""
    if len(examples) != len(results):
        raise ValueError("examples and results differ in length")
    gold = [ex.intent for ex in examples]
    pred = [str(res["intent"]["name"]) for res in results]
    confusions: dict[str, Counter[str]] = defaultdict(Counter)
    for g, p in zip(gold, pred, strict=True):
        if g != p:
            confusions[g][p] += 1
    scores = []
    for intent in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == intent)
        predicted = pred.count(intent)
        support = gold.count(intent)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores.append(
            IntentScore(intent, precision, recall, f1, support, confusions[intent].most_common())
        )
    ent_p, ent_r, ent_support = _entity_scores(examples, results)
    misses = [
        Miss(ex.text, ex.intent, str(res["intent"]["name"]), float(res["intent"]["confidence"]))
        for ex, res in zip(examples, results, strict=True)
        if ex.intent != res["intent"]["name"]
    ]
    return EvaluationReport(
        examples=len(examples),
        accuracy=_ratio(sum(g == p for g, p in zip(gold, pred, strict=True)), len(gold)),
        macro_f1=_ratio(sum(s.f1 for s in scores), len(scores)),
        fallback_rate=_ratio(pred.count("nlu_fallback"), len(pred)),
        intents=scores,
        entity=ENTITY_SCORED,
        entity_precision=ent_p,
        entity_recall=ent_r,
        entity_support=ent_support,
        misses=misses,
        backend=backend,
    )


def _entity_scores(
    examples: Sequence[Example], results: Sequence[ParseResult]
) -> tuple[float, float, int]:
    """Exact-span precision and recall for ENTITY_SCORED."""
    tp = fp = fn = 0
    for ex, res in zip(examples, results, strict=True):
        gold = {(e.start, e.end) for e in ex.entities if e.entity == ENTITY_SCORED}
        found = {
            (int(e["start"]), int(e["end"]))
            for e in res.get("entities", [])
            if e.get("entity") == ENTITY_SCORED
        }
        tp += len(gold & found)
        fp += len(found - gold)
        fn += len(gold - found)
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), tp + fn


def evaluate(
    parse: Callable[[str], ParseResult], examples: Sequence[Example], *, backend: str = "embedded"
) -> EvaluationReport:
    """Parse every example with `parse` and score the results."""
    return score(examples, [parse(ex.text) for ex in examples], backend=backend)


def cross_validate(
    data: TrainingData, *, folds: int, config: NLUConfig | None = None, kind: str = DEFAULT_KIND
) -> EvaluationReport:
    """Stratified k-fold cross-validation of the embedded backend (pooled predictions)."""
    results = cross_validate_results(data, folds=folds, config=config, kind=kind)
    return score(data.examples, results, backend=f"embedded-cv{folds}")


def cross_validate_results(
    data: TrainingData, *, folds: int, config: NLUConfig | None = None, kind: str = DEFAULT_KIND
) -> list[ParseResult]:
    """The parse result of every training example from the model that did not train on it."""
    from sklearn.model_selection import StratifiedKFold

    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    config = replace(config or NLUConfig(), cache_dir=None)
    labels = [ex.intent for ex in data.examples]
    smallest = min(Counter(labels).values())
    if folds > smallest:
        raise ValueError(f"{folds} folds but the smallest intent has {smallest} examples")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    results: list[ParseResult | None] = [None] * len(data.examples)
    for train_idx, test_idx in splitter.split(labels, labels):
        fold_data = replace(data, examples=[data.examples[i] for i in train_idx])
        parser = EmbeddedParser(train_model(fold_data, config, kind=kind), config)
        for i in test_idx:
            results[i] = parser.parse(data.examples[i].text)
    return [r for r in results if r is not None]


def top_intent(result: ParseResult) -> tuple[str, float]:
    """The best real intent and its confidence (past an `nlu_fallback` entry)."""
    for item in result.get("intent_ranking") or [result["intent"]]:
        if item["name"] != FALLBACK_INTENT:
            return str(item["name"]), float(item["confidence"])
    return FALLBACK_INTENT, float(result["intent"]["confidence"])


@dataclass(frozen=True)
class CalibrationReport:
    """How well the top intent's confidence matches how often it is right.

    `expected_calibration_error` is the sample-weighted mean |accuracy - confidence| over
    equal-width confidence bins; `bins` are (low, high, count, mean confidence, accuracy).
    """

    examples: int
    expected_calibration_error: float
    brier: float
    bins: list[tuple[float, float, int, float, float]]


def calibration(
    examples: Sequence[Example], results: Sequence[ParseResult], *, bins: int = 10
) -> CalibrationReport:
    """Reliability of the top intent's confidence (the `nlu_fallback` entry is looked past)."""
    pairs = []
    for ex, res in zip(examples, results, strict=True):
        name, conf = top_intent(res)
        pairs.append((conf, name == ex.intent))
    table = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in pairs if low <= c < high or (b == bins - 1 and c == 1.0)]
        if not inside:
            continue
        conf = sum(c for c, _ in inside) / len(inside)
        acc = sum(ok for _, ok in inside) / len(inside)
        ece += len(inside) / len(pairs) * abs(acc - conf)
        table.append((low, high, len(inside), conf, acc))
    brier = _ratio(sum((c - ok) ** 2 for c, ok in pairs), len(pairs))
    return CalibrationReport(len(pairs), ece, brier, table)


@dataclass(frozen=True)
class DisambiguationPoint:
    """What `nlu.disambiguation` would do at one margin, over a set of examples.

    `asked`: share of messages that get "A or B?"; `rescued`: share whose top intent was wrong
    but the right one is among the two buttons; `needless`: share asked although the top intent
    was right; `accuracy`: share resolved right (top intent right and not asked, or the right
    intent among the buttons).
    """

    margin: float
    asked: float
    rescued: float
    needless: float
    accuracy: float


def disambiguation_sweep(
    examples: Sequence[Example],
    results: Sequence[ParseResult],
    margins: Sequence[float],
    *,
    min_confidence: float,
) -> list[DisambiguationPoint]:
    """`DisambiguationPoint` for each margin (a customer picks the right button)."""
    from nlu.disambiguation import disambiguation

    points = []
    n = len(examples)
    for margin in margins:
        asked = rescued = needless = right = 0
        for ex, res in zip(examples, results, strict=True):
            pair = disambiguation(res, margin=margin, min_confidence=min_confidence)
            top = str(res["intent"]["name"])
            if pair is None:
                right += top == ex.intent
                continue
            asked += 1
            if ex.intent in pair:
                right += 1
                rescued += top != ex.intent
            needless += top == ex.intent
        points.append(
            DisambiguationPoint(
                margin, _ratio(asked, n), _ratio(rescued, n), _ratio(needless, n), _ratio(right, n)
            )
        )
    return points
