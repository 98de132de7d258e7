"""The embedded intent classifier: TF-IDF features and a calibrated linear SVM.

Chosen by measurement (`scripts/bench_nlu.py --compare-models`; 5-fold cross-validation on
nlu/data/train decides, the held-out nlu/data/test/test.yml confirms): character 1-3-grams
(`char_wb`) carry Chinese (no spaces), typos and Traditional variants. Longer n-grams (1-4,
1-5), word unigrams/bigrams and jieba words did not beat them in cross-validation, and jieba
costs ~1.3 s of dictionary loading, so none are used. A LinearSVC (C=2) wrapped in sigmoid
calibration keeps more answers above the `nlu_fallback` threshold than multinomial logistic
regression at the same accuracy.

Training uses scikit-learn (`IntentClassifier`); the fitted model is then compiled into a
`CompiledClassifier` of plain numpy arrays, which is what gets cached and used for parsing:
loading it does not import scikit-learn (~1.5 s) and scoring skips sklearn's per-call input
validation (~10 ms per message). Tests check it against sklearn's `predict_proba`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from nlu.errors import TrainingDataError

# Bump when features or model change so cached models are rebuilt.
MODEL_VERSION = "svc-charwb13-c2-v4"
MODEL_KINDS = ("svc", "svc-words", "logreg", "svc-jieba")
NGRAM_RANGE = (1, 3)
_WHITESPACE = re.compile(r"\s\s+")


def _jieba_tokens(text: str) -> list[str]:
    import jieba  # imported lazily: loading its dictionary takes about a second

    return [tok for tok in jieba.lcut(text) if tok.strip()]


def build_model(kind: str = "svc") -> Any:
    """An unfitted scikit-learn pipeline of the given kind (see MODEL_KINDS)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose from {MODEL_KINDS}")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True)
    parts: list[tuple[str, Any]] = [("chars", chars)]
    if kind == "svc-words":
        words = TfidfVectorizer(
            ngram_range=(1, 2), token_pattern=r"(?u)#?\b\w+\b#?", sublinear_tf=True
        )
        parts.append(("words", words))
    if kind == "svc-jieba":
        jieba_words = TfidfVectorizer(
            tokenizer=_jieba_tokens, token_pattern=None, lowercase=False, sublinear_tf=True
        )
        parts.append(("jieba", jieba_words))
    if kind == "logreg":
        clf: Any = LogisticRegression(C=20.0, max_iter=2000)
    else:
        clf = CalibratedClassifierCV(LinearSVC(C=2.0), method="sigmoid", cv=5)
    return Pipeline([("features", FeatureUnion(parts)), ("clf", clf)])


def _ranked(labels: Sequence[str], rows: np.ndarray) -> list[list[tuple[str, float]]]:
    out = []
    for row in rows:
        order = np.argsort(-row, kind="stable")
        out.append([(labels[i], float(row[i])) for i in order])
    return out


class IntentClassifier:
    """scikit-learn training; fits on normalized, entity-masked texts."""

    def __init__(self, kind: str = "svc") -> None:
        self.kind = kind
        self._model = build_model(kind)
        self.labels: list[str] = []

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> IntentClassifier:
        """Train on parallel lists of texts and intent names."""
        smallest = min(Counter(labels).values(), default=0)
        if smallest < 2:
            raise TrainingDataError("every intent needs at least 2 training examples")
        if self.kind != "logreg":  # calibration splits each intent: small sets get fewer folds
            self._model.set_params(clf__cv=min(5, smallest))
        self._model.fit(list(texts), list(labels))
        self.labels = [str(label) for label in self._model.classes_]
        return self

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """sklearn's own `predict_proba` (columns follow `labels`)."""
        return np.asarray(self._model.predict_proba(list(texts)))

    def rank(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probabilities, best first."""
        return self.rank_many([text])[0]

    def rank_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """`rank` for many texts at once."""
        return _ranked(self.labels, self.probabilities(texts))

    def compile(self) -> CompiledClassifier | None:
        """The same model as numpy arrays, or None for kinds it cannot express."""
        union = self._model.named_steps["features"]
        members = getattr(self._model.named_steps["clf"], "calibrated_classifiers_", None)
        if len(union.transformer_list) != 1 or not members:
            return None
        vec = union.transformer_list[0][1]
        if (vec.analyzer, vec.norm, vec.sublinear_tf, vec.use_idf, vec.lowercase) != (
            "char_wb",
            "l2",
            True,
            True,
            True,
        ):
            return None
        weights, biases, slopes, offsets = [], [], [], []
        for member in members:
            svm, calibrators = member.estimator, member.calibrators
            if len(calibrators) != len(self.labels) or svm.coef_.shape[0] != len(self.labels):
                return None
            weights.append(svm.coef_.T)
            biases.append(svm.intercept_)
            slopes.append([c.a_ for c in calibrators])
            offsets.append([c.b_ for c in calibrators])
        return CompiledClassifier(
            labels=list(self.labels),
            ngram_range=tuple(vec.ngram_range),
            vocabulary={str(k): int(v) for k, v in vec.vocabulary_.items()},
            idf=np.asarray(vec.idf_, dtype=float),
            weight=np.ascontiguousarray(np.hstack(weights)),
            bias=np.concatenate(biases),
            slope=np.asarray(slopes, dtype=float).ravel(),
            offset=np.asarray(offsets, dtype=float).ravel(),
            folds=len(members),
        )


class CompiledClassifier:
    """char_wb TF-IDF + sigmoid-calibrated LinearSVC ensemble, as plain numpy."""

    def __init__(
        self,
        *,
        labels: list[str],
        ngram_range: tuple[int, int],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray,
        slope: np.ndarray,
        offset: np.ndarray,
        folds: int,
    ) -> None:
        self.labels = labels
        self.ngram_range = ngram_range
        self.vocabulary = vocabulary
        self.idf = idf
        self.weight = weight
        self.bias = bias
        self.slope = slope
        self.offset = offset
        self.folds = folds

    def ngrams(self, text: str) -> list[str]:
        """Character n-grams inside space-padded words (sklearn's `char_wb`, lowercased)."""
        low, high = self.ngram_range
        grams: list[str] = []
        for word in _WHITESPACE.sub(" ", text.lower()).split():
            padded = f" {word} "
            for n in range(low, high + 1):
                if len(padded) <= n:  # sklearn counts a short word once, then stops
                    grams.append(padded)
                    break
                grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return grams

    def _scores(self, text: str) -> np.ndarray:
        counts = Counter(i for i in map(self.vocabulary.get, self.ngrams(text)) if i is not None)
        if not counts:
            return self.bias.copy()
        index = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * self.idf[index]
        values /= np.sqrt(values @ values)
        return values @ self.weight[index] + self.bias

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Averaged calibrated probabilities, columns following `labels`."""
        scores = np.vstack([self._scores(text) for text in texts])
        probs = 1.0 / (1.0 + np.exp(self.slope * scores + self.offset))
        probs = probs.reshape(len(texts), self.folds, len(self.labels))
        totals = probs.sum(axis=2, keepdims=True)
        uniform = np.full_like(probs, 1.0 / len(self.labels))
        probs = np.divide(probs, totals, out=uniform, where=totals > 0)
        return probs.mean(axis=1)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probabilities, best first."""
        return self.rank_many([text])[0]

    def rank_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """`rank` for many texts at once."""
        return _ranked(self.labels, self.probabilities(texts))
