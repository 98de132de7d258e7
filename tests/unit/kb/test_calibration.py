from __future__ import annotations

import random

import pytest

from knowledge_base.calibration import Calibration, Features, fit
from knowledge_base.errors import KnowledgeBaseError


def _features(quality: float) -> Features:
    return Features(
        score_ratio=quality,
        coverage=quality,
        margin=quality - 0.2,
        log_score=1 + 2 * quality,
        matched_terms=quality,
    )


def _samples(n: int = 200) -> list[tuple[Features, bool]]:
    rng = random.Random(7)
    out = []
    for _ in range(n):
        right = rng.random() < 0.6
        quality = rng.uniform(0.5, 1.0) if right else rng.uniform(0.0, 0.6)
        out.append((_features(quality), right))
    return out


def test_the_fitted_model_separates_right_from_wrong_answers():
    model = fit(_samples())
    assert model.probability(_features(0.95)) > 0.8
    assert model.probability(_features(0.05)) < 0.2


def test_probability_grows_with_answer_quality():
    model = fit(_samples())
    probs = [model.probability(_features(q / 10)) for q in range(11)]
    assert probs == sorted(probs)


def test_the_threshold_keeps_confident_wrong_answers_within_the_bound():
    samples = _samples()
    model = fit(samples, max_wrong_rate=0.02)
    wrong = sum(1 for f, ok in samples if not ok and model.probability(f) >= model.threshold)
    assert wrong / len(samples) <= 0.02


def test_fitting_needs_both_right_and_wrong_examples():
    with pytest.raises(ValueError, match="both right and wrong"):
        fit([(_features(0.9), True)] * 20)


def test_a_saved_model_loads_back(tmp_path):
    model = fit(_samples())
    path = tmp_path / "calibration.json"
    model.save(path)
    loaded = Calibration.load(path)
    assert loaded.threshold == model.threshold
    assert loaded.probability(_features(0.7)) == pytest.approx(model.probability(_features(0.7)))


def test_defaults_are_used_when_no_model_was_fitted(tmp_path):
    assert Calibration.load(tmp_path / "missing.json") == Calibration()


def test_extreme_features_do_not_overflow():
    model = Calibration(weights=(1000.0,) * 6, bias=0.0)
    assert model.probability(_features(1.0)) == pytest.approx(1.0)
    assert model.probability(_features(-1.0)) == pytest.approx(0.0)


def test_a_model_fitted_for_other_features_is_refused_with_advice(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text('{"weights": [1, 2], "bias": 0, "threshold": 0.5}', "utf-8")
    with pytest.raises(KnowledgeBaseError, match="kb calibrate"):
        Calibration.load(path)
