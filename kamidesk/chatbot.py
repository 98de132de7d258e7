"""Wiring of the chatbot: the dialogue engine from the container and the settings.

State and guessing limits live in Redis when REDIS_URL is set (shared by every app process),
in process memory otherwise. A handoff opens a desk ticket in the same transaction as the
turn that asked for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from redis import Redis

from bot.channels.telegram import TelegramChannel
from bot.engine import DialogueEngine, HandoffRequest
from bot.guard import Guard, GuardLimits
from bot.orders import OrderDesk
from bot.state import MemoryStateStore, RedisStateStore, StateStore
from bot.transcript import Transcripts
from desk import tickets
from fulfilment.redaction import redact_keys
from fulfilment.uow import UnitOfWork
from kamidesk.bootstrap import Container
from kamidesk.settings import Settings
from knowledge_base import KnowledgeBase, KnowledgeBaseService


def redact_customer_text(uow: UnitOfWork, text: str) -> str:
    """Card keys a customer pastes into the chat are stored masked (the transcript is read by
    agents and served by the web chat's messages endpoint)."""
    return redact_keys(uow.session, uow.vault, text)


@dataclass(frozen=True)
class TicketHandoffs:
    """The bot's handoffs become desk tickets; ratings land on the conversation's ticket."""

    def record(self, uow: UnitOfWork, request: HandoffRequest) -> None:
        tickets.open_ticket(uow, request)

    def rated(self, uow: UnitOfWork, conversation_id: str, score: int) -> None:
        tickets.rate(uow, conversation_id, score)


def build_chatbot(
    container: Container,
    *,
    kb: KnowledgeBaseService | None = None,
    redis: Redis | None = None,
) -> DialogueEngine:
    """The engine every channel shares (one per process)."""
    from kamidesk.cli.nlu import config_from_settings
    from nlu import build_parser

    settings = container.settings
    limits = GuardLimits(
        failed_proofs_per_conversation=settings.chat_failed_proofs_per_conversation,
        failed_proofs_per_user=settings.chat_failed_proofs_per_user,
        failed_proofs_per_ip=settings.chat_failed_proofs_per_ip,
        conversations_per_ip=settings.chat_conversations_per_ip,
        messages_per_conversation=settings.chat_messages_per_conversation,
    )
    state: StateStore
    if settings.redis_url:
        client = redis or Redis.from_url(settings.redis_url)
        state = RedisStateStore(client)
        guard = Guard(settings.redis_url, limits)
    else:
        state = MemoryStateStore()
        guard = Guard(limits=limits)
    knowledge = kb or KnowledgeBaseService(KnowledgeBase(), container.session_factory)
    return DialogueEngine(
        transcripts=Transcripts(container.uow, redact=redact_customer_text),
        state=state,
        orders=OrderDesk(container.uow),
        nlu=build_parser(config_from_settings(settings)),
        kb=knowledge,
        handoffs=TicketHandoffs(),
        guard=guard,
    )


def build_telegram(settings: Settings, engine: DialogueEngine) -> TelegramChannel | None:
    """The Telegram channel when TELEGRAM_BOT_TOKEN is set: long polling, or a webhook when
    TELEGRAM_WEBHOOK_URL is set."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token.strip():
        return None
    secret = settings.telegram_webhook_secret
    return TelegramChannel(
        engine,
        token=token.strip(),
        base_url=settings.telegram_base_url,
        webhook_url=settings.telegram_webhook_url or None,
        webhook_secret=secret.get_secret_value() if secret else None,
    )


def warm_up(engine: DialogueEngine) -> threading.Thread:
    """Load the knowledge base's tokenizer and the NLU model in the background, so the first
    customer does not wait for them."""

    def run() -> None:
        engine.nlu.parse("hello")
        engine.kb.kb.search("warm up", "zh", 1)

    thread = threading.Thread(target=run, name="kamidesk-warm-up", daemon=True)
    thread.start()
    return thread
