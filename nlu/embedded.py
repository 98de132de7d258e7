"""The embedded backend: an in-process classifier trained from the YAML data, cached on disk
keyed by a hash of the data, the model version and the relevant configuration.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from nlu.classifier import DEFAULT_KIND, MODEL_VERSION, CompiledClassifier, IntentClassifier
from nlu.config import NLUConfig
from nlu.entities import EntityExtractor
from nlu.errors import ModelCacheError
from nlu.result import ParseResult, build_result, nothing_to_classify
from nlu.text import has_content, mask, normalize
from nlu.training_data import TrainingData, fingerprint, load_training_data

log = logging.getLogger(__name__)


@dataclass
class EmbeddedModel:
    """Everything needed to parse: picklable, so it can be cached."""

    fingerprint: str
    classifier: CompiledClassifier | IntentClassifier
    extractor: EntityExtractor
    trained_on: int  # number of examples
    train_seconds: float


def features_for(text: str, extractor: EntityExtractor) -> str:
    """The classifier's input: entities masked by placeholders, then normalized."""
    spans = [(f.start, f.end, f.entity) for f in extractor.extract(text)]
    return normalize(mask(text, spans))


def train_model(
    data: TrainingData, config: NLUConfig, *, kind: str = DEFAULT_KIND, key: str = ""
) -> EmbeddedModel:
    """Fit the classifier and build the extractor from `data`."""
    started = time.perf_counter()
    extractor = EntityExtractor(
        order_id_patterns=config.order_id_patterns,
        regexes=data.regexes,
        lookups=data.lookups,
        synonyms=data.synonyms,
    )
    texts = [features_for(ex.text[: config.max_chars], extractor) for ex in data.examples]
    trained = IntentClassifier(kind).fit(texts, [ex.intent for ex in data.examples])
    classifier = trained.compile() or trained  # compiled: no sklearn needed to load or parse
    return EmbeddedModel(
        fingerprint=key,
        classifier=classifier,
        extractor=extractor,
        trained_on=len(texts),
        train_seconds=time.perf_counter() - started,
    )


def model_key(config: NLUConfig, kind: str = DEFAULT_KIND) -> str:
    """Cache key: data contents + model version + sklearn version + extraction config."""
    return fingerprint(
        config.data_paths,
        MODEL_VERSION,
        kind,
        version("scikit-learn"),
        repr(config.order_id_patterns),
        str(config.max_chars),
    )


class EmbeddedParser:
    """Parses text in-process; never raises for odd text."""

    def __init__(self, model: EmbeddedModel, config: NLUConfig) -> None:
        self.model = model
        self.config = config

    @classmethod
    def load_or_train(
        cls, config: NLUConfig | None = None, *, kind: str = DEFAULT_KIND
    ) -> EmbeddedParser:
        """Load the cached model for this data, or train one and cache it."""
        config = config or NLUConfig()
        key = model_key(config, kind)
        path = cache_path(config, key)
        if path is not None and path.exists():
            try:
                return cls(_read_cache(path, key), config)
            except ModelCacheError as exc:
                log.warning("ignoring unusable NLU model cache: %s", exc)
        model = train_model(load_training_data(config.data_paths), config, kind=kind, key=key)
        if path is not None:
            _write_cache(path, model)
        return cls(model, config)

    def parse(self, text: str) -> ParseResult:
        """Intent and entities for `text` in Rasa's `/model/parse` shape."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        view = text[: self.config.max_chars]
        found = self.model.extractor.extract(view)
        entities = [f.as_dict() for f in found]
        if not has_content(view):
            return nothing_to_classify(text, entities)
        spans = [(f.start, f.end, f.entity) for f in found]
        features = normalize(mask(view, spans))
        ranking = self.model.classifier.rank(features)
        return build_result(text, ranking, entities, threshold=self.config.fallback_threshold)

    async def aparse(self, text: str) -> ParseResult:
        """Async twin of `parse` (CPU-bound and sub-millisecond, so it runs inline)."""
        return self.parse(text)


def cache_path(config: NLUConfig, key: str) -> Path | None:
    """File that holds the model for `key`, or None when caching is disabled."""
    if config.cache_dir is None:
        return None
    return Path(config.cache_dir) / f"embedded-{key[:20]}.pkl"


def _read_cache(path: Path, key: str) -> EmbeddedModel:
    # The cache is written only by this process's user into its own cache directory.
    try:
        with path.open("rb") as fh:
            model = pickle.load(fh)
    except Exception as exc:  # any unpickling failure means "rebuild"
        raise ModelCacheError(f"{path}: {exc}") from exc
    if not isinstance(model, EmbeddedModel) or model.fingerprint != key:
        raise ModelCacheError(f"{path}: stale or foreign model")
    return model


def _write_cache(path: Path, model: EmbeddedModel) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: concurrent readers never see half a file
    except OSError as exc:
        log.warning("cannot cache NLU model at %s: %s", path, exc)
