"""The production transport (httpx, as `build_telegram` makes it) against a self-hosted Bot API
server at TELEGRAM_BASE_URL: here the stand-in served over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging

from pydantic import SecretStr

from kamidesk.chatbot import build_telegram
from kamidesk.settings import Settings
from simulators.server import run_in_thread
from tests.fake_bot_api import TOKEN, FakeBotApi, bot_api_server, message_update

USER = 555001


async def test_the_bot_talks_to_a_self_hosted_bot_api_server_and_hides_the_token(bot, caplog):
    api = FakeBotApi()
    server = run_in_thread(bot_api_server(api))
    api.base_url = server.base_url
    settings = Settings(
        demo_mode=True, telegram_bot_token=SecretStr(TOKEN), telegram_base_url=server.base_url
    )
    channel = build_telegram(settings, bot)
    assert channel is not None
    try:
        with caplog.at_level(logging.INFO):
            await channel.start()
            await asyncio.wait_for(channel.ready.wait(), 15)
            api.updates.append(message_update(USER, "hello"))
            for _ in range(500):
                if len(api.texts(USER)) >= 2:
                    break
                await asyncio.sleep(0.02)
            await channel.stop()
    finally:
        server.stop()
    assert api.texts(USER)[0].startswith("Hi Li!")
    menu = api.sent(USER)[-1]["reply_markup"]["inline_keyboard"]
    assert all(len(row) == 1 and row[0]["callback_data"] for row in menu)
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/bot<TELEGRAM_BOT_TOKEN>/sendMessage" in line for line in requests)
    assert not any(TOKEN in r.getMessage() for r in caplog.records)
