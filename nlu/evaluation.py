"""Evaluate a parser on Rasa-format examples: accuracy, macro F1, per-intent scores with
confusions, and order_id entity precision/recall. Cross-validation for the embedded backend.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nlu.classifier import DEFAULT_KIND
from nlu.config import NLUConfig
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
    return score(
        data.examples, [r for r in results if r is not None], backend=f"embedded-cv{folds}"
    )
