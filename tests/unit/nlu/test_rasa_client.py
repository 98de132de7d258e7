from __future__ import annotations

import json

import httpx
import pytest

from nlu import (
    FALLBACK_INTENT,
    RasaAuthError,
    RasaParser,
    RasaResponseError,
    RasaUnavailableError,
)

RASA_ANSWER = {
    "text": "订单KM2026112200017卡密无效",
    "intent": {"name": "key_invalid", "confidence": 0.91},
    "intent_ranking": [
        {"name": "key_invalid", "confidence": 0.91},
        {"name": "refund_request", "confidence": 0.05},
    ],
    "entities": [
        {
            "entity": "order_id",
            "start": 2,
            "end": 17,
            "value": "KM2026112200017",
            "extractor": "DIETClassifier",
        },
        {
            "entity": "order_id",
            "start": 2,
            "end": 17,
            "value": "KM2026112200017",
            "extractor": "RegexEntityExtractor",
        },
    ],
    "text_tokens": [[0, 2]],
}


class Fallback:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def parse(self, text: str) -> dict:
        self.calls.append(text)
        return {
            "text": text,
            "intent": {"name": "greet", "confidence": 1.0},
            "intent_ranking": [],
            "entities": [],
        }


def rasa(handler, **kwargs) -> RasaParser:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return RasaParser("http://rasa.test:5005/", client=client, **kwargs)


def test_it_posts_the_text_with_the_token_and_normalizes_the_answer():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=RASA_ANSWER)

    result = rasa(handler, token="s3cret").parse(RASA_ANSWER["text"])
    (request,) = seen
    assert request.url.path == "/model/parse"
    assert request.url.params["token"] == "s3cret"
    assert json.loads(request.content) == {"text": RASA_ANSWER["text"]}
    assert result["intent"] == {"name": "key_invalid", "confidence": 0.91}
    assert [e["extractor"] for e in result["entities"]] == ["RegexEntityExtractor"]
    assert set(result) == {"text", "intent", "intent_ranking", "entities"}


def test_long_text_is_cut_before_it_is_sent_but_returned_whole():
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(len(json.loads(request.content)["text"]))
        return httpx.Response(200, json={"intent": {"name": "faq", "confidence": 0.5}})

    text = "x" * 100_000
    result = rasa(handler, max_chars=2000).parse(text)
    assert sizes == [2000]
    assert result["text"] == text


def test_an_empty_intent_from_rasa_becomes_nlu_fallback():
    result = rasa(lambda r: httpx.Response(200, json={"intent": {"name": None}})).parse("")
    assert result["intent"]["name"] == FALLBACK_INTENT


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        lambda r: httpx.Response(503, text="loading"),
    ],
    ids=["refused", "timeout", "5xx"],
)
def test_when_rasa_is_down_the_fallback_parser_answers(handler):
    fallback = Fallback()
    parser = rasa(handler, fallback=fallback)
    assert parser.parse("hi")["intent"]["name"] == "greet"
    assert fallback.calls == ["hi"]
    assert parser.fallbacks_used == 1


def test_when_rasa_is_down_without_fallback_the_error_is_clear():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RasaUnavailableError, match=r"rasa\.test:5005.*unavailable"):
        rasa(handler).parse("hi")


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_token_raises_even_with_a_fallback(status):
    parser = rasa(lambda r: httpx.Response(status), fallback=Fallback(), token="wrong")
    with pytest.raises(RasaAuthError, match="RASA_TOKEN"):
        parser.parse("hi")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>proxy</html>"),
        httpx.Response(200, json=["not", "a", "dict"]),
        httpx.Response(404, text="no such route"),
    ],
)
def test_garbage_answers_are_response_errors(response):
    with pytest.raises(RasaResponseError):
        rasa(lambda r: response).parse("hi")


async def test_aparse_uses_the_async_client_and_falls_back_too():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fallback = Fallback()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        parser = RasaParser("http://rasa.test", async_client=client, fallback=fallback)
        result = await parser.aparse("hi")
    assert result["intent"]["name"] == "greet"
    await parser.aclose()
    assert client.is_closed


async def test_aparse_returns_rasa_answers():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=RASA_ANSWER))
    async with httpx.AsyncClient(transport=transport) as client:
        parser = RasaParser("http://rasa.test", async_client=client)
        result = await parser.aparse("x")
    assert result["intent"]["name"] == "key_invalid"
    parser.close()
