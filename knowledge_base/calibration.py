"""Turning raw lexical scores into a probability that the top article answers the question.

BM25 scores are not comparable across questions (a long question scores higher than a short
one), so the retriever describes each candidate with scale-free features and a logistic model
maps them to P(correct). The model is fitted on a calibration question set that is separate
from the held-out evaluation set (`kamidesk kb calibrate`), and stored as JSON next to the
articles. The threshold is the lowest probability at which an answer is shown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from knowledge_base.errors import KnowledgeBaseError

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FEATURES = ("score_ratio", "coverage", "margin", "log_score", "matched_terms", "headline")


@dataclass(frozen=True)
class Features:
    """Scale-free description of one candidate for one question."""

    score_ratio: float  # score / best score any document could reach for this question
    coverage: float  # idf-weighted share of the question's terms found in the article
    margin: float  # (score - best other score) / score, negative below the top
    log_score: float  # log(1 + raw score)
    matched_terms: float  # distinct question words found, capped at 5, divided by 5
    headline: float = 0.0  # idf-weighted share of the question found in title, phrasings, tags

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


@dataclass(frozen=True)
class Calibration:
    """A logistic model over `Features`, plus the answer threshold."""

    weights: tuple[float, ...] = (1.4, 0.7, 0.8, 1.4, 0.2, 1.0)
    bias: float = -3.2
    threshold: float = 0.5
    meta: dict = field(default_factory=dict)

    def probability(self, features: Features) -> float:
        """P(this candidate answers the question)."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, features.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        """The fitted model, or the built-in defaults when no file exists."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text("utf-8"))
        if list(data.get("features") or FEATURES) != list(FEATURES) or len(data["weights"]) != len(
            FEATURES
        ):
            raise KnowledgeBaseError(
                f"{path} was fitted for other features; run `kamidesk kb calibrate --write`"
            )
        return cls(
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            meta=dict(data.get("meta") or {}),
        )

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        data = asdict(self)
        data["weights"] = list(self.weights)
        data["features"] = list(FEATURES)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def fit(
    samples: Sequence[tuple[Features, bool]],
    *,
    max_wrong_rate: float = 0.05,
    l2: float = 0.01,
    iterations: int = 100,
) -> Calibration:
    """Fit the logistic model and pick the lowest threshold whose wrong-answer rate is bounded.

    `samples` are (features of the top candidate, whether it was right); questions that have
    no answer in the knowledge base are samples whose top candidate is wrong.
    """
    if len(samples) < 10 or len({ok for _, ok in samples}) < 2:
        raise ValueError("need at least 10 samples with both right and wrong answers")
    x = np.array([[*f.vector(), 1.0] for f, _ in samples], dtype=float)  # last column: bias
    y = np.array([1.0 if ok else 0.0 for _, ok in samples])
    penalty = np.full(x.shape[1], l2 * len(y))
    penalty[-1] = 0.0  # the bias is not shrunk
    theta = np.zeros(x.shape[1])
    for _ in range(iterations):  # Newton's method (IRLS): converges in a handful of steps
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -30, 30)))
        gradient = x.T @ (p - y) + penalty * theta
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + np.diag(penalty) + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-9:
            break
    w, b = theta[:-1], theta[-1]
    model = Calibration(weights=tuple(float(v) for v in w), bias=float(b))
    probs = [model.probability(f) for f, _ in samples]
    threshold = _pick_threshold(probs, [ok for _, ok in samples], max_wrong_rate)
    meta = {"samples": len(samples), "max_wrong_rate": max_wrong_rate}
    return Calibration(weights=model.weights, bias=model.bias, threshold=threshold, meta=meta)


def _pick_threshold(probs: list[float], right: list[bool], max_wrong_rate: float) -> float:
    # The lowest threshold (most answers shown) whose confident-wrong share of all questions
    # stays within the bound; fall back to "answer only when very sure".
    for candidate in sorted({round(p, 3) for p in probs} | {0.5}):
        wrong = sum(1 for p, ok in zip(probs, right, strict=True) if p >= candidate and not ok)
        if wrong / len(probs) <= max_wrong_rate:
            return max(candidate, 0.2)
    return 0.95
