"""A Telegram Bot API stand-in for python-telegram-bot: a `BaseRequest` that answers in
process, records every call, and can be told to fail. Nothing reaches the network: the channel
under test is built with this request object, and any method the stand-in does not know fails
the call (and the test that made it).

Also builders of realistic updates (`Update.de_json` input) for private chats, groups, button
taps and stickers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, HTTPXRequest, RequestData

BASE_URL = "http://bot-api.test"  # what the channel is given as TELEGRAM_BASE_URL
TOKEN = "123456:TEST-token-never-in-logs"
BOT = {"id": 777000, "is_bot": True, "first_name": "Kami", "username": "kamidesk_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    url: str


@dataclass
class FakeBotApi:
    """The Bot API's side: what was called, what to fail next, updates to hand out."""

    base_url: str = BASE_URL
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(5000))  # type: ignore[type-arg]

    def request(self) -> BaseRequest:
        return FakeRequest(self)

    def fail_next(self, method: str, code: int, description: str, times: int = 1) -> None:
        """The next `times` calls of `method` get this HTTP error."""
        self.failures.setdefault(method, []).extend([(code, description)] * times)

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """sendMessage calls that succeeded (to one chat), in order."""
        return [
            c.params
            for c in self.calls
            if c.method == "sendMessage" and (chat_id is None or c.params["chat_id"] == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [p["text"] for p in self.sent(chat_id)]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def clear(self) -> None:
        self.calls.clear()

    async def answer(self, url: str, params: dict[str, Any]) -> tuple[int, bytes]:
        method = url.rsplit("/", 1)[-1]
        if not url.startswith(f"{self.base_url}/bot{TOKEN}/"):
            return _error(404, f"unexpected URL for {method}")
        queued = self.failures.get(method)
        if queued:
            code, description = queued.pop(0)
            return _error(code, description)
        if method == "getUpdates":
            if not self.updates:
                await asyncio.sleep(0.02)  # a long poll that returned nothing
            batch, self.updates[:] = list(self.updates), []
            return _ok(batch)
        self.calls.append(Call(method, params, url))
        if method == "getMe":
            return _ok(BOT)
        if method == "sendMessage":
            chat = {"id": params["chat_id"], "type": "private", "first_name": "Customer"}
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
                "text": params["text"],
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return _ok(message)
        if method in (
            "answerCallbackQuery",
            "setWebhook",
            "deleteWebhook",
            "editMessageReplyMarkup",
        ):
            return _ok(True)
        return _error(400, f"Bad Request: the stand-in does not know {method}")


class FakeRequest(BaseRequest):
    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        params = dict(request_data.parameters) if request_data else {}
        return await self.api.answer(url, params)


# Parameters python-telegram-bot sends as plain strings; the others are JSON-encoded.
_STRING_PARAMS = {"text", "url", "secret_token", "callback_query_id"}


def bot_api_server(api: FakeBotApi) -> Any:
    """The stand-in as an HTTP server (a self-hosted Bot API server's shape), for the real
    transport: `run_in_thread(bot_api_server(api))`, then TELEGRAM_BASE_URL is its address."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        params = {k: v if k in _STRING_PARAMS else json.loads(str(v)) for k, v in form.items()}
        url = f"{api.base_url}{request.url.path}"
        code, body = await api.answer(url, params)
        return Response(body, status_code=code, media_type="application/json")

    return Starlette(routes=[Route("/bot{token}/{method}", endpoint, methods=["POST"])])


def refuse_real_requests(monkeypatch: Any) -> None:
    """Make python-telegram-bot's real transport fail the test if anything ever uses it."""

    async def refuse(*args: Any, **kwargs: Any) -> tuple[int, bytes]:
        raise AssertionError("a real Bot API request was attempted")

    monkeypatch.setattr(HTTPXRequest, "do_request", refuse)


def wait_until(condition: Any, timeout: float = 15.0) -> None:
    """For tests driving the app's own event loop from outside (TestClient)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {condition}")
        time.sleep(0.02)


def _ok(result: Any) -> tuple[int, bytes]:
    return 200, json.dumps({"ok": True, "result": result}).encode()


def _error(code: int, description: str) -> tuple[int, bytes]:
    body = {"ok": False, "error_code": code, "description": description}
    return code, json.dumps(body).encode()


# -- updates ------------------------------------------------------------------------------------

_update_ids = itertools.count(100_000)
_message_ids = itertools.count(1)


def user(user_id: int, language: str | None = "en", first_name: str = "Li") -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language:
        data["language_code"] = language
    return data


def private_chat(user_id: int, first_name: str = "Li") -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": first_name}


def group_chat() -> dict[str, Any]:
    return {"id": -1001234567890, "type": "supergroup", "title": "Game cards fans"}


def message_update(
    user_id: int,
    text: str | None = None,
    *,
    language: str | None = "en",
    chat: dict[str, Any] | None = None,
    **content: Any,
) -> dict[str, Any]:
    """A new message; `text` starting with / is a command (with its entity)."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat or private_chat(user_id),
        "from": user(user_id, language),
        **content,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": next(_update_ids), "message": message}


def sticker_update(user_id: int, language: str | None = "en") -> dict[str, Any]:
    sticker = {
        "file_id": "CAACAgIAAxkBAAEB",
        "file_unique_id": "AgADBAAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    return message_update(user_id, language=language, sticker=sticker)


def tap_update(
    user_id: int, data: str, *, message_id: int = 1, language: str | None = "en"
) -> dict[str, Any]:
    """A tap on an inline button of a message the bot sent."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": user(user_id, language),
            "chat_instance": "-987654321",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": private_chat(user_id),
                "from": BOT,
                "text": "…",
            },
        },
    }
