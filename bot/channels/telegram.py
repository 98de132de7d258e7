"""The Telegram channel: python-telegram-bot v22 around the dialogue engine, and nothing more.

A private chat is a conversation (`DialogueEngine.telegram_conversation`, tied to the Telegram
user, which is how an order's `buyer_telegram_id` proves ownership). A text message or a tapped
inline button is one engine turn, run in a thread; every reply is sent with an inline keyboard
whose callback data are the reply's opaque button tokens. /start and /help greet (a deep-link
argument, `t.me/<bot>?start=<order no>`, is passed on as text); a sticker or a photo without a
caption gets a polite "text only"; groups and channels are ignored (support is private).

- Updates come by long polling (the default) or, when TELEGRAM_WEBHOOK_URL is set, at
  `POST /telegram/webhook` (`webhook`), which checks the secret-token header first.
- Updates of different chats are handled at once, one chat's in arrival order.
- Every callback query is answered (before the turn, so a slow supplier never leaves a spinner).
- Errors go to an error handler that logs them; the application keeps running. The token is
  never logged (httpx's request lines, which contain it, are redacted).

Messages stored for a Telegram chat with delivery PENDING (proactive notices, later agents'
replies) are pushed by `push_pending` (see `bot.channels.pushing`: claimed row by row, so several
senders never send one twice), which the channel runs every second; the job runner may call it
too. A user who blocked the bot (Forbidden) or a chat that is gone is given up at once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from telegram import (
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.ptb import PerChatUpdateProcessor, RedactToken, keyboard, split_text
from bot.channels.pushing import Pusher
from bot.engine import MAX_TEXT, Button, DialogueEngine, Incoming, InvalidMessage, TooManyRequests
from bot.models import Channel
from bot.transcript import ConversationInfo, StoredMessage

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# /start and /help become a greeting the NLU understands, in the conversation's language (an
# English "hello" would switch a Chinese conversation to English).
GREETINGS = {"en": "hello", "zh-CN": "你好", "zh-TW": "哈囉"}
CHATTY_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # no edits, no groups

Context = ContextTypes.DEFAULT_TYPE


class TelegramChannel:
    """The bot on Telegram: `start`/`stop` from the app's lifespan, `push_pending` for the
    outbox, `feed` for the webhook route."""

    def __init__(
        self,
        engine: DialogueEngine,
        *,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        request: BaseRequest | None = None,
        updates_request: BaseRequest | None = None,
        push_every: float = 1.0,
        concurrency: int = 16,
    ) -> None:
        if webhook_url and not webhook_secret:
            raise ValueError("a Telegram webhook needs a secret token")
        self.engine = engine
        self.webhook_url = webhook_url
        self._secret = webhook_secret or ""
        self.push_every = push_every
        self.ready = asyncio.Event()
        self._connected = False
        self._tasks: list[asyncio.Task[None]] = []
        # Forbidden: the user blocked the bot; BadRequest: e.g. the chat is gone. The same
        # call would fail again, so the message is given up, not retried.
        self.pusher = Pusher(
            engine.transcripts, Channel.TELEGRAM, self._push, permanent=(Forbidden, BadRequest)
        )
        self._redact = RedactToken(token)
        base = base_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .rate_limiter(AIORateLimiter(max_retries=2))
            .concurrent_updates(PerChatUpdateProcessor(concurrency))
        )
        if request is not None:
            builder = builder.request(request).get_updates_request(updates_request or request)
        if webhook_url:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self._register(self.application)

    def _register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        app.add_handler(CommandHandler(("start", "help"), self._on_start, filters=PRIVATE))
        app.add_handler(MessageHandler(PRIVATE & (filters.TEXT | filters.CAPTION), self._on_text))
        app.add_handler(MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, self._on_other))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_error_handler(self._on_error)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background: the HTTP app serves while Telegram is unreachable."""
        logging.getLogger("httpx").addFilter(self._redact)
        for name in CHATTY_LOGGERS:  # at DEBUG they log every message sent, keys included
            chatty = logging.getLogger(name)
            if chatty.getEffectiveLevel() < logging.INFO:
                chatty.setLevel(logging.INFO)
        self._tasks.append(asyncio.create_task(self._run(), name="telegram-channel"))

    async def _run(self) -> None:
        try:
            await self._start_up()
        except Exception:
            log.exception("the Telegram channel could not start")

    async def _start_up(self) -> None:
        app = self.application
        if not await self._retrying(self.connect, "connect"):
            return
        await app.start()
        if self.webhook_url:
            started = await self._retrying(self._set_webhook, "set the webhook")
        else:
            assert app.updater is not None
            started = await self._retrying(
                partial(app.updater.start_polling, allowed_updates=ALLOWED_UPDATES),
                "start polling",
            )
        if not started:
            return
        pushing = self.pusher.run_forever(self.push_every)
        self._tasks.append(asyncio.create_task(pushing, name="telegram-push"))
        self.ready.set()
        mode = "webhook" if self.webhook_url else "long polling"
        log.info("Telegram channel running as @%s (%s)", app.bot.username, mode)

    async def connect(self) -> None:
        """Meet the Bot API (getMe); `start` does this, retrying until Telegram answers."""
        await self.application.initialize()
        self._connected = True

    async def _set_webhook(self) -> None:
        await self.application.bot.set_webhook(
            url=str(self.webhook_url), secret_token=self._secret, allowed_updates=ALLOWED_UPDATES
        )

    async def _retrying(self, step: Callable[[], Awaitable[Any]], what: str) -> bool:
        """Run a start-up step until Telegram answers; False when the token is refused."""
        delay = 1.0
        while True:
            try:
                await step()
                return True
            except InvalidToken:  # its message may quote the token: never log it
                log.error("Telegram refused TELEGRAM_BOT_TOKEN; the Telegram channel is off")
                return False
            except TelegramError as exc:
                log.warning(
                    "could not %s at the Telegram Bot API (%s); retrying in %.0f s",
                    what,
                    type(exc).__name__,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    async def stop(self) -> None:
        """Stop polling, pushing and the application (a webhook stays set for the next run)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.ready.clear()
        self._connected = False
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        logging.getLogger("httpx").removeFilter(self._redact)

    # -- updates ------------------------------------------------------------------------------

    def verify(self, secret: str | None) -> bool:
        """Whether a webhook request carries our secret token."""
        return bool(self._secret) and hmac.compare_digest(
            (secret or "").encode(), self._secret.encode()
        )

    async def feed(self, data: dict[str, Any]) -> bool:
        """A webhook update into the application's queue; False while not running yet."""
        if not self.ready.is_set():
            return False
        update = Update.de_json(data, self.application.bot)
        await self.application.update_queue.put(update)
        return True

    async def _on_start(self, update: Update, context: Context) -> None:
        conversation = await self._conversation(update)
        args = context.args or []
        text = " ".join(args) or GREETINGS.get(conversation.language, GREETINGS["en"])
        await self._reply_to(conversation, Incoming(text=text))

    async def _on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        conversation = await self._conversation(update)
        await self._reply_to(conversation, Incoming(text=message.text or message.caption))

    async def _on_other(self, update: Update, context: Context) -> None:
        conversation = await self._conversation(update)
        await self._say(conversation, "channel_text_only")

    async def _on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except TelegramError as exc:  # e.g. too old: the tap is still handled
            log.warning("could not answer a button tap (%s)", type(exc).__name__)
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE or not query.data:
            return
        conversation = await self._conversation(update)
        await self._reply_to(conversation, Incoming(payload=query.data))

    async def _on_error(self, update: object, context: Context) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "Telegram update %s failed: %s: %s",
            update_id,
            type(error).__name__,
            error,
            exc_info=(type(error), error, error.__traceback__) if error else None,
        )

    async def _conversation(self, update: Update) -> ConversationInfo:
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        return await asyncio.to_thread(
            partial(
                self.engine.telegram_conversation,
                chat_id=str(chat.id),
                user_id=str(user.id),
                name=user.first_name,
                language_code=user.language_code,
            )
        )

    async def _reply_to(self, conversation: ConversationInfo, incoming: Incoming) -> None:
        """One engine turn; its replies to the chat."""
        try:
            replies = await asyncio.to_thread(self.engine.handle, conversation.id, incoming)
        except InvalidMessage:
            if len(incoming.text or "") > MAX_TEXT:
                await self._say(conversation, "channel_too_long", limit=MAX_TEXT)
            return
        except TooManyRequests:  # a flood: answering every message would only add to it
            log.info("conversation %s writes too fast; not answered", conversation.id[:8])
            return
        except Exception:
            await self._say(conversation, "error")
            raise  # to the error handler, which logs it
        for reply in replies:
            await self.send(self._chat_id(conversation), reply.text, reply.buttons)

    async def _say(self, conversation: ConversationInfo, key: str, **values: object) -> None:
        """A template reply of the channel itself (not a turn: not in the transcript)."""
        text = self.engine.replies.text(key, conversation.language, **values)
        try:
            await self.send(self._chat_id(conversation), text)
        except TelegramError as exc:
            log.warning("could not send %s (%s)", key, type(exc).__name__)

    @staticmethod
    def _chat_id(conversation: ConversationInfo) -> int:
        if conversation.channel != Channel.TELEGRAM or not conversation.chat_id:
            raise ValueError(f"conversation {conversation.id[:8]} is not a Telegram chat")
        return int(conversation.chat_id)

    async def send(self, chat_id: int, text: str, buttons: Sequence[Button] = ()) -> None:
        """A message with the buttons as an inline keyboard (split when longer than Telegram
        allows; the keyboard goes with the last part)."""
        parts = split_text(text)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self.application.bot.send_message(
                chat_id,
                part,
                reply_markup=keyboard(buttons) if last else None,
                link_preview_options=NO_PREVIEW,
            )

    # -- pushing ------------------------------------------------------------------------------

    async def push_pending(self) -> int:
        """Send the due messages stored for Telegram chats (`bot.channels.pushing`); returns
        how many were sent. Idempotent, and safe to run from several places at once (in this
        process: on its event loop). Until the channel is connected nothing is tried, so no
        message spends its attempts on a bot that cannot send yet."""
        if not self._connected:
            return 0
        return await self.pusher.push_pending()

    async def _push(self, conversation: ConversationInfo, message: StoredMessage) -> None:
        buttons = [Button(b["title"], b["payload"]) for b in message.buttons]
        await self.send(self._chat_id(conversation), message.text, buttons)


webhook = APIRouter(include_in_schema=False)


@webhook.post("/telegram/webhook")
async def telegram_webhook(request: Request) -> Response:
    """Updates from Telegram (webhook mode): the secret-token header is checked first."""
    channel: TelegramChannel | None = getattr(request.app.state, "telegram", None)
    if channel is None or not channel.webhook_url:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    if not channel.verify(request.headers.get(SECRET_HEADER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong secret token")
    try:
        data = await request.json()
        accepted = await channel.feed(data) if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        accepted = None
    if accepted is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a Telegram update")
    if not accepted:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the Telegram channel is starting"
        )
    return Response(status_code=status.HTTP_200_OK)
