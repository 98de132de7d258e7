"""The Telegram channel inside the FastAPI app: started by the lifespan without blocking it,
long polling or the webhook route, stopped on shutdown. The Bot API is the stand-in."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.engine import push_delivery_for
from bot.models import Conversation, Delivery, Message, Sender
from bot.transcript import Outgoing
from kamidesk.app import create_app
from tests.fake_bot_api import (
    BASE_URL,
    TOKEN,
    FakeBotApi,
    message_update,
    refuse_real_requests,
    wait_until,
)
from tests.integration.bot.shop import count

USER = 555001
HOOK = "https://shop.example.test/telegram/webhook"
SECRET = "hook-Secret_0123456789"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):  # type: ignore[no-untyped-def]
    refuse_real_requests(monkeypatch)


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


def channel_for(chatbot, api: FakeBotApi, **options) -> TelegramChannel:  # type: ignore[no-untyped-def]
    return TelegramChannel(
        chatbot,
        token=TOKEN,
        base_url=BASE_URL,
        request=api.request(),
        updates_request=api.request(),
        **options,
    )


def test_long_polling_runs_beside_the_http_api_and_pushes_notices(
    container, jobs, chatbot, api, uow
):
    channel = channel_for(chatbot, api, push_every=0.05)
    app = create_app(container=container, telegram=channel)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        wait_until(channel.ready.is_set)
        api.updates.append(message_update(USER, "hello"))
        wait_until(lambda: len(api.texts(USER)) >= 2)
        assert api.texts(USER)[0].startswith("Hi Li!")
        info = chatbot.telegram_conversation(
            chat_id=str(USER), user_id=str(USER), name="Li", language_code="en"
        )
        notice = Outgoing(
            Sender.BOT, "Your order is delivered.", delivery=push_delivery_for(info.channel)
        )
        chatbot.transcripts.notify_once("delivered:1", info.id, notice)
        wait_until(lambda: "Your order is delivered." in api.texts(USER))
        # the webhook route is not for a polling bot
        assert client.post("/telegram/webhook", json={}).status_code == 404
    assert not channel.application.running, "stopped with the app"
    assert api.texts(USER).count("Your order is delivered.") == 1
    with uow:
        states = uow.session.scalars(
            select(Message.delivery).where(Message.text == "Your order is delivered.")
        ).all()
    assert states == [Delivery.SENT]
    assert "setWebhook" not in {c.method for c in api.calls}


def test_the_webhook_refuses_a_wrong_secret_and_handles_a_right_one(
    container, jobs, chatbot, api, uow
):
    channel = channel_for(chatbot, api, webhook_url=HOOK, webhook_secret=SECRET)
    app = create_app(container=container, telegram=channel)
    with TestClient(app) as client:
        wait_until(channel.ready.is_set)
        (hook,) = api.calls_of("setWebhook")
        assert hook["url"] == HOOK and hook["secret_token"] == SECRET
        update = message_update(USER, "/start")
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            refused = client.post("/telegram/webhook", json=update, headers=headers)
            assert refused.status_code == 403
        assert api.sent() == []
        assert count(uow, select(func.count()).select_from(Conversation)) == 0
        garbage = client.post(
            "/telegram/webhook", content=b"[1, 2", headers={SECRET_HEADER: SECRET}
        )
        assert garbage.status_code == 400
        accepted = client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
        assert accepted.status_code == 200
        wait_until(lambda: len(api.texts(USER)) >= 2)
        assert api.texts(USER)[0].startswith("Hi Li!")
    assert "getUpdates" not in {c.method for c in api.calls}
    assert count(uow, select(func.count()).select_from(Conversation)) == 1


def test_the_app_serves_while_telegram_is_unreachable(container, jobs, chatbot, api, caplog):
    api.fail_next("getMe", 502, "Bad Gateway", times=100)
    channel = channel_for(chatbot, api)
    app = create_app(container=container, telegram=channel)
    watching = caplog.at_level(logging.WARNING, logger="bot.channels.telegram")
    with watching, TestClient(app) as client:
        wait_until(lambda: any("retrying" in r.getMessage() for r in caplog.records))
        assert client.get("/healthz").status_code == 200
        assert not channel.ready.is_set()
    assert not any(TOKEN in r.getMessage() for r in caplog.records)


def test_a_refused_token_turns_the_channel_off_without_logging_it(
    container, jobs, chatbot, api, caplog
):
    api.fail_next("getMe", 401, "Unauthorized")
    channel = channel_for(chatbot, api)
    app = create_app(container=container, telegram=channel)
    with caplog.at_level(logging.DEBUG), TestClient(app) as client:
        wait_until(lambda: any("refused" in r.getMessage() for r in caplog.records))
        assert client.get("/healthz").status_code == 200
    assert not channel.ready.is_set()
    assert not any(TOKEN in r.getMessage() for r in caplog.records)


def test_without_a_telegram_channel_the_webhook_route_does_not_exist(client):
    assert client.post("/telegram/webhook", json={"update_id": 1}).status_code == 404
    assert client.app.state.telegram is None  # type: ignore[attr-defined]
