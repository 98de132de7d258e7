"""Configuration for the nlu package (plain data; `kamidesk.settings` fills it in)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TRAIN_DATA_DIR = PACKAGE_DIR / "data" / "train"
TEST_DATA_FILE = PACKAGE_DIR / "data" / "test" / "test.yml"
# Blind test set: written from the intent definitions by someone who never saw the training
# data. Never trained or tuned on; `kamidesk nlu check-data` fails if any of it leaks into
# nlu/data/train.
BLIND_DATA_DIR = PACKAGE_DIR / "data" / "blind"
BLIND_DATA_FILE = BLIND_DATA_DIR / "nlu_blind.yml"
BLIND_LANG_FILE = BLIND_DATA_DIR / "nlu_blind_lang.tsv"
# Public English data (CLINC150 / BANKING77 test splits) for choosing features; never trained on.
DEV_DATA_FILE = PACKAGE_DIR / "data" / "dev" / "public_en.yml"

DEFAULT_ORDER_ID_PATTERNS: tuple[str, ...] = (
    r"\b\d{16,24}\b",
    r"\bKM\d{13}\b",
    r"\bDJ[0-9A-Z]{14,18}\b",
)
FALLBACK_INTENT = "nlu_fallback"


def default_cache_dir() -> Path:
    """Where the embedded model is cached unless configured otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kamidesk" / "nlu"


@dataclass(frozen=True)
class NLUConfig:
    """Everything the parsers need; no dependency on kamidesk's settings object.

    `order_id_patterns` are compiled with `re.ASCII | re.IGNORECASE`, so `\\b` is an ASCII word
    boundary and works next to Chinese characters (`订单20261122...没到`).
    """

    data_paths: tuple[Path, ...] = (TRAIN_DATA_DIR,)
    order_id_patterns: tuple[str, ...] = DEFAULT_ORDER_ID_PATTERNS
    fallback_threshold: float = 0.3
    cache_dir: Path | None = field(default_factory=default_cache_dir)
    max_chars: int = 2000
    rasa_url: str | None = None
    rasa_token: str | None = None
    rasa_timeout: float = 3.0
    rasa_fallback_to_embedded: bool = True
    # "Did you mean A or B?" (nlu.disambiguation): offered when the two best intents are at
    # most this far apart and the second has at least this confidence. Chosen on 5-fold
    # cross-validation predictions (scripts/bench_nlu.py --disambiguation).
    disambiguation_margin: float = 0.15
    disambiguation_min_confidence: float = 0.15

    def __post_init__(self) -> None:
        if not 0.0 <= self.fallback_threshold <= 1.0:
            raise ValueError("fallback_threshold must be between 0 and 1")
        if self.max_chars < 1:
            raise ValueError("max_chars must be positive")
        if not 0.0 <= self.disambiguation_margin <= 1.0:
            raise ValueError("disambiguation_margin must be between 0 and 1")
        if not 0.0 <= self.disambiguation_min_confidence <= 1.0:
            raise ValueError("disambiguation_min_confidence must be between 0 and 1")
        if self.rasa_timeout <= 0:
            raise ValueError("rasa_timeout must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NLUConfig:
        """Build a config from environment variables (same names as kamidesk's settings)."""
        env = os.environ if env is None else env
        kwargs: dict[str, object] = {}
        if env.get("RASA_URL"):
            kwargs["rasa_url"] = env["RASA_URL"]
        if env.get("RASA_TOKEN"):
            kwargs["rasa_token"] = env["RASA_TOKEN"]
        if env.get("NLU_ORDER_ID_PATTERNS"):
            patterns = json.loads(env["NLU_ORDER_ID_PATTERNS"])
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                raise ValueError("NLU_ORDER_ID_PATTERNS must be a JSON list of strings")
            kwargs["order_id_patterns"] = tuple(patterns)
        if env.get("NLU_FALLBACK_THRESHOLD"):
            kwargs["fallback_threshold"] = float(env["NLU_FALLBACK_THRESHOLD"])
        if env.get("NLU_CACHE_DIR"):
            kwargs["cache_dir"] = Path(env["NLU_CACHE_DIR"])
        if env.get("NLU_RASA_FALLBACK"):
            kwargs["rasa_fallback_to_embedded"] = env["NLU_RASA_FALLBACK"].lower() in (
                "1",
                "true",
                "yes",
            )
        return cls(**kwargs)  # type: ignore[arg-type]
