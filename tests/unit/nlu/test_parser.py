from __future__ import annotations

import pytest

import nlu
from nlu import EmbeddedParser, NLUConfig, RasaParser, build_parser


class Stub:
    def parse(self, text: str) -> dict:
        return {
            "text": text,
            "intent": {"name": "thanks", "confidence": 1.0},
            "intent_ranking": [],
            "entities": [],
        }

    async def aparse(self, text: str) -> dict:
        return self.parse(text)


def test_nlu_parse_uses_the_injected_parser():
    nlu.set_default_parser(Stub())
    try:
        assert nlu.parse("whatever")["intent"]["name"] == "thanks"
    finally:
        nlu.set_default_parser(None)


def test_the_backend_follows_rasa_url(tmp_path):
    assert isinstance(build_parser(NLUConfig(cache_dir=tmp_path)), EmbeddedParser)
    parser = build_parser(
        NLUConfig(cache_dir=tmp_path, rasa_url="http://127.0.0.1:9", rasa_token="t")
    )
    assert isinstance(parser, RasaParser)
    assert isinstance(parser.fallback, EmbeddedParser)
    # Nothing listens on port 9: the embedded fallback answers.
    assert parser.parse("转人工")["intent"]["name"] == "human_agent"
    parser.close()


def test_fallback_to_embedded_can_be_switched_off():
    parser = build_parser(
        NLUConfig(rasa_url="http://127.0.0.1:9", rasa_fallback_to_embedded=False)
    )
    assert isinstance(parser, RasaParser) and parser.fallback is None
    with pytest.raises(nlu.RasaUnavailableError):
        parser.parse("hi")
    parser.close()


def test_unknown_backends_and_rasa_without_url_are_refused():
    with pytest.raises(ValueError, match="unknown NLU backend"):
        build_parser(NLUConfig(cache_dir=None), backend="spacy")
    with pytest.raises(ValueError, match="RASA_URL"):
        build_parser(NLUConfig(cache_dir=None), backend="rasa")


def test_config_is_read_from_the_environment():
    config = NLUConfig.from_env(
        {
            "RASA_URL": "http://rasa:5005",
            "RASA_TOKEN": "tok",
            "NLU_ORDER_ID_PATTERNS": '["\\\\bA\\\\d{4}\\\\b"]',
            "NLU_FALLBACK_THRESHOLD": "0.4",
            "NLU_CACHE_DIR": "/tmp/x",
            "NLU_RASA_FALLBACK": "false",
        }
    )
    assert config.rasa_url == "http://rasa:5005" and config.rasa_token == "tok"
    assert config.order_id_patterns == (r"\bA\d{4}\b",)
    assert config.fallback_threshold == 0.4
    assert str(config.cache_dir) == "/tmp/x"
    assert config.rasa_fallback_to_embedded is False


@pytest.mark.parametrize(
    "env",
    [{"NLU_ORDER_ID_PATTERNS": '{"a": 1}'}, {"NLU_FALLBACK_THRESHOLD": "1.5"}],
)
def test_bad_environment_values_are_refused(env):
    with pytest.raises(ValueError):
        NLUConfig.from_env(env)
