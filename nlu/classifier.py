"""The embedded intent classifier: TF-IDF features and a calibrated linear SVM.

Chosen by measurement (`scripts/bench_nlu.py --compare-models`; 5-fold cross-validation on
nlu/data/train and the public English development set nlu/data/dev decide, the held-out
nlu/data/test/test.yml confirms): character 1-3-grams (`char_wb`) carry Chinese (no spaces),
typos and Traditional variants; English word 1-2-grams beside them (`svc-en-words`, the
default) help English phrasing that shares few characters with the training data. Word
n-grams over every script, longer character n-grams and jieba words did not do better, and
jieba costs ~1.3 s of dictionary loading. A LinearSVC (C=2) wrapped in sigmoid calibration
keeps more answers above the `nlu_fallback` threshold than multinomial logistic regression at
the same accuracy.

Calibration: the per-intent sigmoids, renormalised over 19 intents and averaged over five
folds, come out under-confident (on 5-fold cross-validation, answers given with confidence
0.65 were right 90% of the time; expected calibration error 0.15). The averaged probabilities
are therefore sharpened, p_i ∝ p_i ** CONFIDENCE_POWER, with the power that minimises the
log-loss of 5-fold cross-validation predictions (1.5; calibration error 0.02 there). So a
confidence of 0.7 means "right about 70% of the time", which is what the fallback threshold
and `nlu.disambiguation` rely on.

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
MODEL_VERSION = "svc-charwb13-enwords12-c2-p15-v6"
DEFAULT_KIND = "svc-en-words"
MODEL_KINDS = ("svc-en-words", "svc", "svc-words", "svc-char14-en-words", "logreg", "svc-jieba")
NGRAM_RANGE = (1, 3)
WORD_NGRAM_RANGE = (1, 2)
# English words (and the entity placeholders such as #oid#); Chinese is left to the characters.
EN_WORD_PATTERN = r"[a-z]+(?:'[a-z]+)?|#[a-z]+#"
# Sharpening of the averaged calibrated probabilities (see the module docstring).
CONFIDENCE_POWER = 1.5
_WHITESPACE = re.compile(r"\s\s+")
_EN_WORD = re.compile(EN_WORD_PATTERN)


def _jieba_tokens(text: str) -> list[str]:
    import jieba  # imported lazily: loading its dictionary takes about a second

    return [tok for tok in jieba.lcut(text) if tok.strip()]


def build_model(kind: str = DEFAULT_KIND) -> Any:
    """An unfitted scikit-learn pipeline of the given kind (see MODEL_KINDS)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose from {MODEL_KINDS}")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True)
    if kind == "svc-char14-en-words":
        chars.set_params(ngram_range=(1, 4))
    parts: list[tuple[str, Any]] = [("chars", chars)]
    if kind.endswith("en-words"):
        words = TfidfVectorizer(
            ngram_range=WORD_NGRAM_RANGE, token_pattern=EN_WORD_PATTERN, sublinear_tf=True
        )
        parts.append(("words", words))
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

    def __init__(self, kind: str = DEFAULT_KIND) -> None:
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
        """sklearn's `predict_proba`, sharpened (columns follow `labels`)."""
        power = 1.0 if self.kind == "logreg" else CONFIDENCE_POWER  # tuned for the SVMs
        return sharpen(np.asarray(self._model.predict_proba(list(texts))), power)

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
        if not members or not 1 <= len(union.transformer_list) <= 2:
            return None
        vec = union.transformer_list[0][1]
        if _settings(vec) != ("char_wb", None):
            return None
        words: WordFeatures | None = None
        if len(union.transformer_list) == 2:
            word_vec = union.transformer_list[1][1]
            if _settings(word_vec) != ("word", EN_WORD_PATTERN):
                return None
            words = WordFeatures(
                ngram_range=tuple(word_vec.ngram_range),
                vocabulary={str(k): int(v) for k, v in word_vec.vocabulary_.items()},
                idf=np.asarray(word_vec.idf_, dtype=float),
            )
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
            words=words,
        )


def _settings(vec: Any) -> tuple[str, str | None] | None:
    """(analyzer, token pattern) of a TF-IDF vectorizer the compiled model can reproduce."""
    if (vec.norm, vec.sublinear_tf, vec.use_idf, vec.lowercase, vec.stop_words) != (
        "l2",
        True,
        True,
        True,
        None,
    ) or not isinstance(vec.analyzer, str):
        return None
    if vec.analyzer == "char_wb":
        return ("char_wb", None)
    if vec.analyzer == "word" and vec.tokenizer is None and vec.preprocessor is None:
        return ("word", vec.token_pattern)
    return None


class WordFeatures:
    """The English word n-gram block of a compiled model (sklearn's `word` analyzer)."""

    def __init__(
        self, *, ngram_range: tuple[int, int], vocabulary: dict[str, int], idf: np.ndarray
    ) -> None:
        self.ngram_range = ngram_range
        self.vocabulary = vocabulary
        self.idf = idf

    def ngrams(self, text: str) -> list[str]:
        """Word n-grams as sklearn builds them: unigrams first, then bigrams, ..."""
        tokens = _EN_WORD.findall(text.lower())
        low, high = self.ngram_range
        grams: list[str] = []
        for n in range(low, min(high, len(tokens)) + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams


class CompiledClassifier:
    """char_wb (+ optional English word) TF-IDF + sigmoid-calibrated LinearSVC ensemble, as
    plain numpy. `weight` has one row per character feature, then one per word feature."""

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
        words: WordFeatures | None = None,
        power: float = CONFIDENCE_POWER,
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
        self.words = words
        self.power = power

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
        scores = self.bias.copy()
        scores += _block(self.ngrams(text), self.vocabulary, self.idf, self.weight, 0)
        if self.words is not None:
            words = self.words
            scores += _block(
                words.ngrams(text), words.vocabulary, words.idf, self.weight, len(self.idf)
            )
        return scores

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Averaged calibrated probabilities, columns following `labels`."""
        scores = np.vstack([self._scores(text) for text in texts])
        probs = 1.0 / (1.0 + np.exp(self.slope * scores + self.offset))
        probs = probs.reshape(len(texts), self.folds, len(self.labels))
        totals = probs.sum(axis=2, keepdims=True)
        uniform = np.full_like(probs, 1.0 / len(self.labels))
        probs = np.divide(probs, totals, out=uniform, where=totals > 0)
        return sharpen(probs.mean(axis=1), self.power)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """All intents with their probabilities, best first."""
        return self.rank_many([text])[0]

    def rank_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """`rank` for many texts at once."""
        return _ranked(self.labels, self.probabilities(texts))


def sharpen(probs: np.ndarray, power: float) -> np.ndarray:
    """Rows of probabilities raised to `power` and renormalised (power > 1: more confident)."""
    if power == 1.0:
        return probs
    raised = np.power(probs, power)
    return raised / raised.sum(axis=1, keepdims=True)


def _block(
    grams: list[str],
    vocabulary: dict[str, int],
    idf: np.ndarray,
    weight: np.ndarray,
    first_row: int,
) -> np.ndarray | float:
    """One vectorizer's contribution: its l2-normalised sublinear TF-IDF times its weights."""
    counts = Counter(i for i in map(vocabulary.get, grams) if i is not None)
    if not counts:
        return 0.0
    index = np.fromiter(counts, dtype=np.int64, count=len(counts))
    values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * idf[index]
    values /= np.sqrt(values @ values)
    return values @ weight[index + first_row]
