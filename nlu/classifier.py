"""The embedded intent classifier: TF-IDF features and a calibrated linear SVM.

Chosen by measurement (`scripts/bench_nlu.py --compare-models`; 5-fold cross-validation on
nlu/data/train decides, the held-out nlu/data/test/test.yml confirms): character 1-3-grams
(`char_wb`) carry Chinese (no spaces), typos and Traditional variants. Longer n-grams (1-4,
1-5), word unigrams/bigrams and jieba words did not beat them in cross-validation, and jieba
costs ~1.3 s of dictionary loading, so none are used. A LinearSVC (C=2) wrapped in sigmoid
calibration keeps more answers above the `nlu_fallback` threshold than multinomial logistic
regression at the same accuracy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from nlu.errors import TrainingDataError

# Bump when features or model change so cached models are rebuilt.
MODEL_VERSION = "svc-charwb13-c2-v1"
MODEL_KINDS = ("svc", "svc-words", "logreg", "svc-jieba")


def _jieba_tokens(text: str) -> list[str]:
    import jieba  # imported lazily: loading its dictionary takes about a second

    return [tok for tok in jieba.lcut(text) if tok.strip()]


def _features(kind: str) -> FeatureUnion:
    parts: list[tuple[str, Any]] = [
        (
            "chars",
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=1),
        )
    ]
    if kind == "svc-words":
        parts.append(
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=r"(?u)#?\b\w+\b#?",
                    sublinear_tf=True,
                ),
            )
        )
    if kind == "svc-jieba":
        parts.append(
            (
                "jieba",
                TfidfVectorizer(
                    tokenizer=_jieba_tokens, token_pattern=None, lowercase=False, sublinear_tf=True
                ),
            )
        )
    return FeatureUnion(parts)


def build_model(kind: str = "svc") -> Pipeline:
    """An unfitted pipeline of the given kind (see MODEL_KINDS)."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose from {MODEL_KINDS}")
    if kind == "logreg":
        clf: Any = LogisticRegression(C=20.0, max_iter=2000)
    else:
        clf = CalibratedClassifierCV(LinearSVC(C=2.0), method="sigmoid", cv=5)
    return Pipeline([("features", _features(kind)), ("clf", clf)])


class IntentClassifier:
    """Fits on normalized, entity-masked texts; ranks intents with probabilities."""

    def __init__(self, kind: str = "svc") -> None:
        self.kind = kind
        self._model = build_model(kind)
        self.labels: list[str] = []

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> IntentClassifier:
        """Train on parallel lists of texts and intent names."""
        smallest = min(Counter(labels).values(), default=0)
        if smallest < 2:
            raise TrainingDataError("every intent needs at least 2 training examples")
        # Calibration splits each intent; small data sets get fewer folds.
        self._model.set_params(clf__cv=min(5, smallest)) if self.kind != "logreg" else None
        self._model.fit(list(texts), list(labels))
        self.labels = [str(label) for label in self._model.classes_]
        return self

    def rank(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probabilities, best first."""
        probs = self._model.predict_proba([text])[0]
        order = np.argsort(-probs)
        return [(self.labels[i], float(probs[i])) for i in order]

    def rank_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """`rank` for many texts at once (faster for evaluation)."""
        probs = self._model.predict_proba(list(texts))
        out = []
        for row in probs:
            order = np.argsort(-row)
            out.append([(self.labels[i], float(row[i])) for i in order])
        return out
