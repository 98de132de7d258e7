"""Wiring of the chatbot: the dialogue engine from the container, its reactions to the core's
events (proactive notices), its background work, and the Telegram channel.

State and guessing limits live in Redis when REDIS_URL is set (shared by every app process),
in process memory otherwise. A handoff opens a desk ticket in the same transaction as the turn
that asked for it. `register_chatbot` runs inside `bootstrap.build`, after the core's own
registrations, so the app, the worker and the CLI all know the bot's subscribers and tasks.

    subscriber  bot.notices          KeyDelivered, KeyReissued, TopupSucceeded, TopupFailed,
                                     RefundPaid, ReissueGranted/Rejected/NeedsReview -> notices
    task        bot.late_order       "sorry for the wait" for one late order (due source: linked
                                     orders past their product's usual delivery time)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis import Redis

from bot.engine import DialogueEngine, HandoffRequest
from bot.guard import Guard, GuardLimits
from bot.notices import Notices, OrderNotice
from bot.orders import OrderDesk
from bot.state import MemoryStateStore, RedisStateStore, StateStore
from bot.transcript import Transcripts
from desk import tickets
from fulfilment.actors import ActorKind
from fulfilment.events import (
    Event,
    KeyDelivered,
    KeyReissued,
    RefundPaid,
    ReissueGranted,
    ReissueNeedsReview,
    ReissueRejected,
    TopupFailed,
    TopupSucceeded,
)
from fulfilment.money import format_amount
from fulfilment.redaction import redact_keys
from fulfilment.uow import UnitOfWork
from kamidesk.events import Subscription

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel
    from kamidesk.bootstrap import Container
    from kamidesk.settings import Settings

LATE_ORDER_TASK = "bot.late_order"
NOTICES = "bot.notices"


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


def guard_limits(settings: Settings) -> GuardLimits:
    return GuardLimits(
        failed_proofs_per_conversation=settings.chat_failed_proofs_per_conversation,
        failed_proofs_per_user=settings.chat_failed_proofs_per_user,
        failed_proofs_per_ip=settings.chat_failed_proofs_per_ip,
        conversations_per_ip=settings.chat_conversations_per_ip,
        messages_per_conversation=settings.chat_messages_per_conversation,
    )


def build_chatbot(box: Container, *, redis: Redis | None = None) -> DialogueEngine:
    """The engine every channel shares (one per process)."""
    import nlu

    settings = box.settings
    state: StateStore
    if settings.redis_url:
        state = RedisStateStore(redis or Redis.from_url(settings.redis_url))
        guard = Guard(settings.redis_url, guard_limits(settings))
    else:
        state = MemoryStateStore()
        guard = Guard(limits=guard_limits(settings))
    return DialogueEngine(
        transcripts=Transcripts(box.uow, redact=redact_customer_text),
        state=state,
        orders=OrderDesk(box.uow),
        nlu=box.nlu,
        kb=box.kb,
        handoffs=TicketHandoffs(),
        guard=guard,
        disambiguate=getattr(nlu, "disambiguation", None),
    )


def register_chatbot(box: Container) -> None:
    """The bot's subscribers and background work, on the container's bus and job runner."""
    notices = Notices(Transcripts(box.uow), OrderDesk(box.uow))

    def notify(event: Event) -> None:
        notice = notice_for(event, notices.orders)
        if notice is not None:
            notices.tell(notice)

    box.bus.register(
        [
            Subscription(kind, NOTICES, notify)
            for kind in (
                KeyDelivered,
                KeyReissued,
                TopupSucceeded,
                TopupFailed,
                RefundPaid,
                ReissueGranted,
                ReissueRejected,
                ReissueNeedsReview,
            )
        ]
    )
    box.jobs.register_task(LATE_ORDER_TASK, notices.late_order, check=_order_no)
    box.jobs.register_due(LATE_ORDER_TASK, lambda: notices.late_order_nos(box.clock()))


def _order_no(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise ValueError("an order number is a string of 1-64 characters")
    return value


def notice_for(event: Event, orders: OrderDesk) -> OrderNotice | None:
    """What to tell the order's conversations about `event`, if anything.

    Keys are stable per fact, not per event, so a notice the bot already gave in the chat (it
    marks the same key in its turn) is not repeated."""
    customer = event.actor is not None and event.actor.kind == ActorKind.CUSTOMER
    if isinstance(event, KeyDelivered):
        if not event.order_complete:
            return None
        reissued = event.status_before == "delivering" and orders.facts(event.order_no).reissues
        template = "notice_reissued_ready" if reissued else "notice_key_delivered"
        return OrderNotice(f"delivered:{event.event_id}", event.order_no, template, {})
    if isinstance(event, KeyReissued):
        if event.waiting_stock or customer:
            return None  # the customer saw it happen in the chat; a stock wait ends in delivery
        return OrderNotice(
            f"reissue-decided:{event.request_id}", event.order_no, "notice_key_replaced", {}
        )
    if isinstance(event, ReissueGranted | ReissueRejected | ReissueNeedsReview):
        return OrderNotice(
            f"reissue-decided:{event.request_id}", event.order_no, "notice_reissue_decided", {}
        )
    if isinstance(event, TopupSucceeded):
        return OrderNotice(
            f"topup-arrived:{event.order_no}",
            event.order_no,
            "notice_topup_succeeded",
            {"ref": event.supplier_ref or "-"},
        )
    if isinstance(event, TopupFailed):
        return OrderNotice(
            f"topup-failed:{event.order_no}", event.order_no, "notice_topup_failed", {}
        )
    if isinstance(event, RefundPaid):
        return OrderNotice(
            f"refund-paid:{event.request_id}",
            event.order_no,
            "notice_refund_paid",
            {"amount": format_amount(event.amount_cents)},
        )
    return None


def build_telegram(settings: Settings, engine: DialogueEngine) -> TelegramChannel | None:
    """The Telegram channel when TELEGRAM_BOT_TOKEN is set: long polling, or a webhook when
    TELEGRAM_WEBHOOK_URL is set."""
    from bot.channels.telegram import TelegramChannel

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
