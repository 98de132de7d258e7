"""Proactive messages: the bot tells a customer what happened to their order without being
asked (a key delivered, a top-up arrived or failed, a refund paid, a replacement key ready after
a stock wait, "sorry for the wait" when an order runs late).

Only conversations tied to the order hear about it: those that proved they own it, and the
Telegram chat of the buyer the order names. Each notice is a transcript row stored once per
(event, conversation) — an event handled twice notifies once — and Telegram rows wait there,
PENDING, until the channel has pushed them (`bot.channels.telegram`); the web chat page reads
them from the transcript. The wiring subscribes these methods to the core's events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.engine import push_delivery_for
from bot.models import Channel, Sender
from bot.orders import NotFound, OrderDesk
from bot.replies import Replies
from bot.transcript import ConversationInfo, Outgoing, Transcripts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderNotice:
    """Something to tell an order's owner: a stable key (the event's identity), the order,
    the reply template and its values."""

    key: str
    order_no: str
    template: str
    values: dict[str, str]


class Notices:
    def __init__(
        self, transcripts: Transcripts, orders: OrderDesk, replies: Replies | None = None
    ) -> None:
        self.transcripts = transcripts
        self.orders = orders
        self.replies = replies or Replies()

    def targets(self, order_no: str) -> list[ConversationInfo]:
        """Conversations allowed to hear about the order."""
        linked = {c.id: c for c in self.transcripts.conversations_for_order(order_no)}
        try:
            buyer = self.orders.facts(order_no).buyer_telegram_id
        except NotFound:
            return []
        if buyer:
            chat = self.transcripts.telegram_conversation(buyer)
            if chat is not None:
                linked.setdefault(chat.id, chat)
        return list(linked.values())

    def tell(self, notice: OrderNotice) -> int:
        """Store the notice for every target once; returns how many were new."""
        sent = 0
        for conversation in self.targets(notice.order_no):
            text = self.replies.text(
                notice.template, conversation.language, order_no=notice.order_no, **notice.values
            )
            message = Outgoing(
                Sender.BOT,
                text,
                delivery=push_delivery_for(conversation.channel),
                intent=f"notice:{notice.template}",
            )
            if self.transcripts.notify_once(
                f"{notice.key}:{conversation.id}", conversation.id, message
            ):
                sent += 1
        self.transcripts.mark_noticed(notice.key)  # handled, whoever was listening
        return sent

    def late_order_nos(self, now: datetime, *, recent: int = 500) -> list[str]:
        """Linked orders running past their product's usual time (the slowest tenth of recent
        deliveries) that have not been apologised for yet: the due source of `late_order`."""
        late = []
        for order in self.orders.waiting(self.transcripts.recently_linked_orders(recent)):
            if now - order.paid_at > self.orders.eta(order.sku).slow:
                late.append(order.order_no)
        return [no for no in late if not self.transcripts.noticed(f"late:{no}")]

    def late_order(self, order_no: str) -> int:
        """ "Sorry for the wait", once per conversation tied to the order."""
        return self.tell(OrderNotice(f"late:{order_no}", order_no, "notice_still_processing", {}))


__all__ = ["Channel", "Notices", "OrderNotice"]
