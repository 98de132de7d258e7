"""The Rasa backend against a real Rasa 3.6 server trained on nlu/data/train."""

from __future__ import annotations

import time

import pytest

from nlu import FALLBACK_INTENT, INTENTS, RasaAuthError, RasaParser
from nlu.config import TEST_DATA_FILE
from nlu.evaluation import evaluate
from nlu.training_data import load_training_data

pytestmark = [pytest.mark.integration, pytest.mark.rasa, pytest.mark.slow]


@pytest.fixture
def rasa(rasa_server) -> RasaParser:
    parser = RasaParser(rasa_server.url, token=rasa_server.token, timeout=10.0)
    yield parser
    parser.close()


def test_rasa_answers_in_the_same_shape_as_the_embedded_parser(rasa):
    result = rasa.parse("订单KM2026112200017的卡密用不了")
    assert set(result) == {"text", "intent", "intent_ranking", "entities"}
    assert result["intent"]["name"] == "key_invalid"
    assert {item["name"] for item in result["intent_ranking"]} <= {*INTENTS, FALLBACK_INTENT}
    (order,) = [e for e in result["entities"] if e["entity"] == "order_id"]
    assert (order["value"], order["start"], order["end"]) == ("KM2026112200017", 2, 17)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我要退款", "refund_request"),
        ("转人工", "human_agent"),
        ("i was charged twice", "payment_issue"),
    ],
)
def test_rasa_understands_clear_messages(rasa, text, intent):
    assert rasa.parse(text)["intent"]["name"] == intent


def test_a_wrong_token_is_an_auth_error(rasa_server):
    parser = RasaParser(rasa_server.url, token="definitely-wrong", timeout=10.0)
    with pytest.raises(RasaAuthError):
        parser.parse("hi")
    parser.close()


@pytest.mark.parametrize(
    "text",
    ["", "😀😀😀", "\x00\x1b[31m", "'; DROP TABLE orders; --", "<b>hi</b>", "退款" * 50_000],
)
def test_rasa_copes_with_hostile_input(rasa, text):
    started = time.perf_counter()
    result = rasa.parse(text)
    assert time.perf_counter() - started < 10.0
    assert result["text"] == text
    assert isinstance(result["intent"]["name"], str)


async def test_aparse_talks_to_the_real_server(rasa_server):
    parser = RasaParser(rasa_server.url, token=rasa_server.token, timeout=10.0)
    result = await parser.aparse("where is my refund")
    await parser.aclose()
    assert result["intent"]["name"] == "refund_status"


def test_rasa_holds_a_quality_floor_on_the_held_out_set(rasa):
    examples = load_training_data([TEST_DATA_FILE]).examples
    report = evaluate(rasa.parse, examples, backend="rasa")
    assert report.accuracy >= 0.8
    assert report.entity_recall >= 0.95
