"""Telegram settings: the token turns the channel on, a webhook needs a secret, nothing leaks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import SecretStr, ValidationError

from bot.channels.ptb import split_text
from bot.channels.telegram import TelegramChannel
from kamidesk.chatbot import build_telegram
from kamidesk.settings import Settings

TOKEN = "123456:unit-test-token"
ENGINE = SimpleNamespace(transcripts=None)  # only stored until the channel starts


def test_without_a_token_there_is_no_telegram_channel():
    engine = ENGINE
    assert build_telegram(Settings(demo_mode=True), engine) is None  # type: ignore[arg-type]
    blank = Settings(demo_mode=True, telegram_bot_token=SecretStr("  "))
    assert build_telegram(blank, engine) is None  # type: ignore[arg-type]


def test_a_token_starts_long_polling_through_the_configured_bot_api_server():
    settings = Settings(
        demo_mode=True,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_base_url="https://bot-api.example.test/",
    )
    channel = build_telegram(settings, ENGINE)  # type: ignore[arg-type]
    assert isinstance(channel, TelegramChannel)
    assert channel.webhook_url is None and channel.application.updater is not None
    bot = channel.application.bot
    assert bot.base_url == f"https://bot-api.example.test/bot{TOKEN}"
    assert bot.base_file_url == f"https://bot-api.example.test/file/bot{TOKEN}"
    assert TOKEN not in repr(settings)


def test_a_webhook_url_switches_to_webhook_mode_with_its_secret():
    settings = Settings(
        demo_mode=True,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_webhook_url="https://shop.example.test/telegram/webhook",
        telegram_webhook_secret=SecretStr("s3cret_-X"),
    )
    channel = build_telegram(settings, ENGINE)  # type: ignore[arg-type]
    assert channel is not None and channel.application.updater is None
    assert channel.verify("s3cret_-X")
    assert not channel.verify("s3cret_-x") and not channel.verify(None) and not channel.verify("")
    assert "s3cret_-X" not in repr(settings)


@pytest.mark.parametrize("secret", [None, "", "has space", "x" * 257, "ünïcode"])
def test_a_webhook_without_a_usable_secret_is_refused_at_start(secret):
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings(
            telegram_webhook_url="https://shop.example.test/telegram/webhook",
            telegram_webhook_secret=SecretStr(secret) if secret is not None else None,
        )


def test_long_texts_are_split_at_line_ends_within_telegrams_limit():
    text = "\n".join(f"line {i:04d} " + "x" * 90 for i in range(100))
    parts = split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert split_text("short") == ["short"]
