"""python-telegram-bot plumbing that is not about the conversation: updates of one chat in
arrival order, the token kept out of logs, and messages shaped to Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import MessageLimit
from telegram.ext import BaseUpdateProcessor

from bot.engine import Button

log = logging.getLogger("bot.channels.telegram")


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Different chats at once, one chat's updates in arrival order (the engine's lock keeps
    them apart but not in order). Tasks start in arrival order and take their chat's lock, which
    is first come first served, before anything else can suspend them."""

    def __init__(self, max_concurrent_updates: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int | None, tuple[asyncio.Lock, int]] = {}

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else None
        )
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            lock, users = self._chats[key]
            if users > 1:
                self._chats[key] = (lock, users - 1)
            else:
                del self._chats[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class RedactToken(logging.Filter):
    """httpx logs each request's URL, and a Bot API URL contains the token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg, record.args = message.replace(self._token, "<TELEGRAM_BOT_TOKEN>"), None
        return True


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One button per row (titles are sentences); callback data is the opaque token."""
    rows = []
    for button in buttons:
        if 0 < len(button.payload.encode()) <= 64:
            rows.append([InlineKeyboardButton(button.title, callback_data=button.payload)])
        else:
            log.warning("button %r dropped: its payload does not fit Telegram", button.title)
    return InlineKeyboardMarkup(rows) if rows else None


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Parts Telegram accepts, cut at line ends where possible."""
    parts, rest = [], text.strip() or "…"
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    return [*parts, rest]
