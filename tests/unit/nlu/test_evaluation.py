from __future__ import annotations

import pytest

from nlu.config import TEST_DATA_FILE
from nlu.evaluation import (
    calibration,
    cross_validate,
    cross_validate_results,
    disambiguation_sweep,
    evaluate,
    score,
    top_intent,
)
from nlu.report import render, side_by_side
from nlu.training_data import EntitySpan, Example, TrainingData, load_training_data


def result(intent: str, *spans: tuple[int, int]) -> dict:
    return {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [{"entity": "order_id", "start": s, "end": e} for s, e in spans],
    }


def test_scores_are_computed_per_intent_with_confusions():
    examples = [
        Example("a", "greet"),
        Example("b", "greet"),
        Example("c", "thanks"),
        Example("d", "thanks", (EntitySpan("order_id", 0, 1, "d"),)),
    ]
    results = [result("greet"), result("thanks"), result("thanks"), result("nlu_fallback", (0, 1))]
    report = score(examples, results)
    assert report.accuracy == 0.5
    greet, thanks = report.intents
    assert (greet.precision, greet.recall, greet.support) == (1.0, 0.5, 2)
    assert greet.confused_with == [("thanks", 1)]
    assert (thanks.precision, thanks.recall) == (0.5, 0.5)
    assert thanks.confused_with == [("nlu_fallback", 1)]
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.5) / 2)
    assert report.fallback_rate == 0.25
    assert (report.entity_precision, report.entity_recall, report.entity_support) == (1, 1, 1)
    assert len(report.misses) == 2


def test_wrong_or_missing_order_id_spans_lower_entity_scores():
    examples = [Example("x", "inform_order", (EntitySpan("order_id", 0, 5, "x"),))]
    report = score(examples, [result("inform_order", (1, 5), (7, 9))])
    assert (report.entity_precision, report.entity_recall) == (0.0, 0.0)


def test_embedded_parser_holds_its_quality_on_the_held_out_set(embedded):
    examples = load_training_data([TEST_DATA_FILE]).examples
    report = evaluate(embedded.parse, examples)
    # A regression guard, not the headline figure (that comes from `kamidesk nlu evaluate`).
    assert report.accuracy >= 0.85
    assert report.macro_f1 >= 0.85
    assert report.entity_precision >= 0.95 and report.entity_recall >= 0.95
    text = render(report, misses=3)
    assert "| key_invalid |" in text and "accuracy" in text
    assert "| accuracy |" in side_by_side([report, report])


def test_cross_validation_pools_every_example_once():
    examples = [Example(f"hello {i}", "greet") for i in range(6)]
    examples += [Example(f"bye now {i}", "goodbye") for i in range(6)]
    report = cross_validate(TrainingData(examples=examples), folds=3)
    assert report.examples == 12
    assert report.accuracy > 0.9


def test_cross_validation_refuses_impossible_fold_counts():
    data = TrainingData(examples=[Example("a", "x"), Example("b", "x"), Example("c", "y")])
    with pytest.raises(ValueError, match="smallest intent"):
        cross_validate(data, folds=2)
    with pytest.raises(ValueError, match="at least 2"):
        cross_validate(data, folds=1)


def ranked(*pairs: tuple[str, float]) -> dict:
    ranking = [{"name": n, "confidence": c} for n, c in pairs]
    return {"intent": dict(ranking[0]), "intent_ranking": ranking, "entities": []}


def test_the_top_intent_looks_past_the_fallback_entry():
    assert top_intent(ranked(("nlu_fallback", 0.3), ("faq", 0.2))) == ("faq", 0.2)
    assert top_intent(ranked(("greet", 0.9))) == ("greet", 0.9)


def test_calibration_compares_confidence_with_accuracy_per_bin():
    examples = [Example(str(i), "greet") for i in range(4)]
    results = [
        ranked(("greet", 0.95)),
        ranked(("greet", 0.95)),
        ranked(("thanks", 0.55)),
        ranked(("nlu_fallback", 0.3), ("greet", 0.25)),
    ]
    report = calibration(examples, results, bins=10)
    assert report.examples == 4
    assert [(low, n, acc) for low, _, n, _, acc in report.bins] == [
        (0.2, 1, 1.0),
        (0.5, 1, 0.0),
        (0.9, 2, 1.0),
    ]
    expected = (0.75 + 0.55 + 2 * 0.05) / 4
    assert report.expected_calibration_error == pytest.approx(expected)
    assert report.brier == pytest.approx((0.05**2 * 2 + 0.55**2 + 0.75**2) / 4)


def test_the_disambiguation_sweep_counts_rescues_and_needless_questions():
    examples = [Example("a", "refund_status"), Example("b", "refund_request"), Example("c", "faq")]
    results = [
        ranked(("refund_request", 0.5), ("refund_status", 0.45)),  # wrong, rescued by asking
        ranked(("refund_request", 0.5), ("refund_status", 0.45)),  # right, asked in vain
        ranked(("faq", 0.9), ("complaint", 0.05)),  # clear
    ]
    low, high = disambiguation_sweep(examples, results, [0.01, 0.1], min_confidence=0.1)
    assert (low.asked, low.rescued, low.needless, low.accuracy) == (0, 0, 0, pytest.approx(2 / 3))
    assert high.asked == pytest.approx(2 / 3)
    assert high.rescued == pytest.approx(1 / 3) and high.needless == pytest.approx(1 / 3)
    assert high.accuracy == 1.0


def test_cross_validation_results_come_from_models_that_did_not_see_the_example():
    examples = [Example(f"hello {i}", "greet") for i in range(6)]
    examples += [Example(f"bye now {i}", "goodbye") for i in range(6)]
    results = cross_validate_results(TrainingData(examples=examples), folds=3)
    assert [r["text"] for r in results] == [e.text for e in examples]
