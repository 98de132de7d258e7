"""One embedded model for the whole NLU unit suite (training takes a few seconds)."""

from __future__ import annotations

import pytest

from nlu import EmbeddedParser, NLUConfig


@pytest.fixture(scope="session")
def nlu_config() -> NLUConfig:
    return NLUConfig(cache_dir=None)


@pytest.fixture(scope="session")
def embedded(nlu_config: NLUConfig) -> EmbeddedParser:
    return EmbeddedParser.load_or_train(nlu_config)
