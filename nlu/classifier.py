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
MODEL_VERSION = "svc-charwb13-c2-v3"
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


def _tfidf_dot(text: str, vectorizers: list[Any], weight: np.ndarray) -> np.ndarray:
    """`TfidfVectorizer.transform(text) @ weight` for sublinear, l2-normalised vectorizers,
    without sklearn's per-call input validation."""
    out = np.zeros(weight.shape[1])
    for analyzer, vocabulary, idf, start in vectorizers:
        counts = Counter(i for i in map(vocabulary.get, analyzer(text)) if i is not None)
        if not counts:
            continue
        index = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * idf[index]
        values /= np.sqrt(values @ values)
        out += values @ weight[start + index]
    return out


class IntentClassifier:
    """Fits on normalized, entity-masked texts; ranks intents with probabilities."""

    def __init__(self, kind: str = "svc") -> None:
        self.kind = kind
        self._model = build_model(kind)
        self.labels: list[str] = []
        self._fast: tuple[Any, ...] | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> IntentClassifier:
        """Train on parallel lists of texts and intent names."""
        smallest = min(Counter(labels).values(), default=0)
        if smallest < 2:
            raise TrainingDataError("every intent needs at least 2 training examples")
        # Calibration splits each intent; small data sets get fewer folds.
        self._model.set_params(clf__cv=min(5, smallest)) if self.kind != "logreg" else None
        self._model.fit(list(texts), list(labels))
        self.labels = [str(label) for label in self._model.classes_]
        self._compile()
        return self

    def _compile(self) -> None:
        """Stack the calibrated SVMs into one matrix: sklearn's per-call validation in
        `CalibratedClassifierCV.predict_proba` (and FeatureUnion's joblib dispatch) cost ~10 ms
        per message; the same arithmetic below takes well under one. Falls back to sklearn
        when the fitted layout is not the expected one."""
        self._fast = None
        clf = self._model.named_steps["clf"]
        members = getattr(clf, "calibrated_classifiers_", None)
        if not members:
            return
        weights, biases, slopes, offsets = [], [], [], []
        for member in members:
            svm, calibrators = member.estimator, member.calibrators
            if len(calibrators) != len(self.labels) or svm.coef_.shape[0] != len(self.labels):
                return
            weights.append(svm.coef_.T)
            biases.append(svm.intercept_)
            slopes.append([c.a_ for c in calibrators])
            offsets.append([c.b_ for c in calibrators])
        vectorizers = [vec for _, vec in self._model.named_steps["features"].transformer_list]
        if not all(v.sublinear_tf and v.norm == "l2" and v.use_idf for v in vectorizers):
            return
        offsets_by_vec, start = [], 0
        for vec in vectorizers:
            offsets_by_vec.append((vec.build_analyzer(), vec.vocabulary_, vec.idf_, start))
            start += len(vec.vocabulary_)
        self._fast = (
            offsets_by_vec,
            np.hstack(weights),
            np.concatenate(biases),
            np.asarray(slopes, dtype=float).ravel(),
            np.asarray(offsets, dtype=float).ravel(),
            len(members),
        )

    def _probabilities(self, texts: Sequence[str]) -> np.ndarray:
        fast = getattr(self, "_fast", None)
        if fast is None:
            return np.asarray(self._model.predict_proba(list(texts)))
        vectorizers, weight, bias, slope, offset, folds = fast
        scores = np.vstack([_tfidf_dot(text, vectorizers, weight) for text in texts]) + bias
        probs = 1.0 / (1.0 + np.exp(slope * scores + offset))  # sigmoid calibration
        probs = probs.reshape(len(texts), folds, len(self.labels))
        totals = probs.sum(axis=2, keepdims=True)
        uniform = np.full_like(probs, 1.0 / len(self.labels))
        probs = np.divide(probs, totals, out=uniform, where=totals > 0)
        return probs.mean(axis=1)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probabilities, best first."""
        return self.rank_many([text])[0]

    def rank_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """`rank` for many texts at once (faster for evaluation)."""
        out = []
        for row in self._probabilities(texts):
            order = np.argsort(-row)
            out.append([(self.labels[i], float(row[i])) for i in order])
        return out

    def reference_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """sklearn's own `predict_proba` (to check the fast path against)."""
        return np.asarray(self._model.predict_proba(list(texts)))
