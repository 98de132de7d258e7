"""Conversations and their transcript in the database (`bot.models`).

Every message in and out is a row, in order; the row id is the cursor that the web chat's
messages endpoint and the desk read from. Free text from people is stored with card keys masked
(`redact`), and a reply that showed a key to its owner is stored with the key masked too.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bot.models import Channel, Conversation, Delivery, Message, Notice, OrderLink, Sender
from fulfilment.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
Redactor = Callable[[UnitOfWork, str], str]
MAX_TEXT = 4000


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    channel: str
    chat_id: str | None
    user_id: str | None
    name: str | None
    language: str


@dataclass(frozen=True)
class StoredMessage:
    id: int
    sender: str
    text: str
    buttons: list[dict[str, Any]]
    at: datetime
    sender_name: str | None = None


@dataclass
class Outgoing:
    """A message to store: what the customer sees may differ from what is stored (keys)."""

    sender: str
    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)
    stored_text: str | None = None
    delivery: str = Delivery.NONE
    sender_name: str | None = None
    intent: str | None = None


def new_conversation_id() -> str:
    """Unguessable: the web chat's only credential."""
    return secrets.token_urlsafe(24)


def _info(row: Conversation) -> ConversationInfo:
    return ConversationInfo(
        row.id,
        row.channel,
        row.channel_chat_id,
        row.channel_user_id,
        row.customer_name,
        row.language,
    )


class Transcripts:
    """Reads and writes conversations; each call is one transaction."""

    def __init__(self, uow_factory: UowFactory, redact: Redactor | None = None) -> None:
        self._uow = uow_factory
        self._redact = redact

    def create(
        self,
        *,
        channel: Channel,
        language: str,
        name: str | None = None,
        client_ip: str | None = None,
    ) -> ConversationInfo:
        with self._uow() as uow:
            row = Conversation(
                id=new_conversation_id(),
                channel=channel,
                language=language,
                customer_name=(name or "")[:120] or None,
                client_ip=client_ip,
                created_at=uow.clock(),
            )
            uow.session.add(row)
            uow.commit()
            return _info(row)

    def for_chat(
        self, *, channel: Channel, chat_id: str, user_id: str, name: str | None, language: str
    ) -> ConversationInfo:
        """The conversation of a Telegram chat, created on its first message."""
        for _ in range(2):
            with self._uow() as uow:
                row = uow.session.scalars(
                    select(Conversation).where(
                        Conversation.channel == channel, Conversation.channel_chat_id == chat_id
                    )
                ).first()
                if row is not None:
                    return _info(row)
                row = Conversation(
                    id=new_conversation_id(),
                    channel=channel,
                    channel_chat_id=chat_id,
                    channel_user_id=user_id,
                    customer_name=(name or "")[:120] or None,
                    language=language,
                    created_at=uow.clock(),
                )
                uow.session.add(row)
                try:
                    uow.commit()
                except IntegrityError:  # the same chat's other message created it first
                    continue
                return _info(row)
        raise RuntimeError("could not create the conversation")

    def get(self, conversation_id: str) -> ConversationInfo | None:
        with self._uow() as uow:
            row = uow.session.get(Conversation, conversation_id)
            return _info(row) if row is not None else None

    def record_turn(
        self,
        conversation_id: str,
        incoming: Outgoing | None,
        outgoing: Sequence[Outgoing],
        *,
        language: str | None = None,
        links: Sequence[tuple[str, str]] = (),
        notices: Sequence[str] = (),
        also: Callable[[UnitOfWork], None] | None = None,
    ) -> list[int]:
        """Store a turn (the customer's message and the replies) in one transaction; returns
        the ids of the stored replies. `links` are (order_no, proof) pairs proven this turn;
        `also` records more in the same transaction (a handoff event)."""
        with self._uow() as uow:
            now = uow.clock()
            conversation = uow.session.get(Conversation, conversation_id)
            if conversation is None:
                raise LookupError(conversation_id)
            conversation.last_message_at = now
            if language and language != conversation.language:
                conversation.language = language
            if incoming is not None:
                self._add(uow, conversation_id, incoming, now)
            rows = [self._add(uow, conversation_id, out, now) for out in outgoing]
            for order_no, proof in links:
                self._link(uow, conversation_id, order_no, proof)
            for key in notices:  # told in the chat already: the proactive notice is not needed
                if uow.session.get(Notice, key[:160]) is None:
                    uow.session.add(Notice(key=key[:160], created_at=now))
            if also is not None:
                also(uow)
            uow.session.flush()
            ids = [row.id for row in rows]
            uow.commit()
            return ids

    def _add(self, uow: UnitOfWork, conversation_id: str, out: Outgoing, now: datetime) -> Message:
        text = out.stored_text if out.stored_text is not None else out.text
        if out.sender == Sender.CUSTOMER and self._redact is not None:
            text = self._redact(uow, text)
        row = Message(
            conversation_id=conversation_id,
            sender=out.sender,
            sender_name=out.sender_name,
            text=text[:MAX_TEXT],
            buttons=out.buttons or None,
            intent=out.intent,
            delivery=out.delivery,
            next_attempt_at=now if out.delivery == Delivery.PENDING else None,
            created_at=now,
        )
        uow.session.add(row)
        return row

    def _link(self, uow: UnitOfWork, conversation_id: str, order_no: str, proof: str) -> None:
        exists = uow.session.scalar(
            select(OrderLink.id).where(
                OrderLink.order_no == order_no, OrderLink.conversation_id == conversation_id
            )
        )
        if exists is None:
            uow.session.add(
                OrderLink(order_no=order_no, conversation_id=conversation_id, proof=proof)
            )

    def messages(
        self, conversation_id: str, *, after: int = 0, limit: int = 100
    ) -> list[StoredMessage]:
        """Messages after the cursor, oldest first."""
        with self._uow() as uow:
            rows = uow.session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.id > after)
                .order_by(Message.id)
                .limit(limit)
            )
            return [
                StoredMessage(r.id, r.sender, r.text, r.buttons or [], r.created_at, r.sender_name)
                for r in rows
            ]

    def conversations_for_order(self, order_no: str) -> list[ConversationInfo]:
        """Conversations allowed to hear about the order (proven, or its Telegram buyer)."""
        with self._uow() as uow:
            rows = uow.session.scalars(
                select(Conversation)
                .join(OrderLink, OrderLink.conversation_id == Conversation.id)
                .where(OrderLink.order_no == order_no)
                .order_by(Conversation.created_at)
            )
            return [_info(r) for r in rows]

    def recently_linked_orders(self, limit: int = 500) -> list[str]:
        """Order numbers that conversations proved most recently (newest first)."""
        with self._uow() as uow:
            rows = uow.session.scalars(
                select(OrderLink.order_no).order_by(OrderLink.id.desc()).limit(limit)
            )
            return list(dict.fromkeys(rows))

    def telegram_conversation(self, user_id: str) -> ConversationInfo | None:
        with self._uow() as uow:
            row = uow.session.scalars(
                select(Conversation)
                .where(
                    Conversation.channel == Channel.TELEGRAM,
                    Conversation.channel_user_id == str(user_id),
                )
                .order_by(Conversation.created_at.desc())
            ).first()
            return _info(row) if row is not None else None

    def notify_once(self, key: str, conversation_id: str, message: Outgoing) -> bool:
        """Store a proactive message unless `key` was used before (an event handled twice)."""
        with self._uow() as uow:
            if uow.session.get(Notice, key) is not None:
                return False
            uow.session.add(Notice(key=key[:160], created_at=uow.clock()))
            self._add(uow, conversation_id, message, uow.clock())
            try:
                uow.commit()
            except IntegrityError:  # a concurrent handler of the same event stored it
                return False
            return True

    def noticed(self, key: str) -> bool:
        """Whether a notice with this key (for any conversation: `mark_noticed`) was given."""
        with self._uow() as uow:
            return uow.session.get(Notice, key[:160]) is not None

    def mark_noticed(self, key: str) -> None:
        """Remember that the notice `key` was handled for every conversation there was."""
        with self._uow() as uow:
            if uow.session.get(Notice, key[:160]) is None:
                uow.session.add(Notice(key=key[:160], created_at=uow.clock()))
                with contextlib.suppress(IntegrityError):  # marked concurrently
                    uow.commit()

    def pending_pushes(self, limit: int = 100) -> list[tuple[int, str]]:
        """(message id, conversation id) of messages still to push, oldest first."""
        with self._uow() as uow:
            rows = uow.session.execute(
                select(Message.id, Message.conversation_id)
                .where(
                    Message.delivery == Delivery.PENDING,
                    Message.next_attempt_at <= uow.clock(),
                )
                .order_by(Message.id)
                .limit(limit)
            ).all()
            return [(mid, cid) for mid, cid in rows]

    def push_queue(self, conversation_id: str) -> list[StoredMessage]:
        """This conversation's messages still to push, in order."""
        with self._uow() as uow:
            rows = uow.session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.delivery == Delivery.PENDING,
                )
                .order_by(Message.id)
            )
            return [
                StoredMessage(r.id, r.sender, r.text, r.buttons or [], r.created_at, r.sender_name)
                for r in rows
            ]

    def claim_push(self, message_id: int, *, lease: float = 120.0) -> bool:
        """Take a message for sending: only when it is due and is the oldest message still
        pending in its conversation (so messages go out in order). It is then not due for
        `lease` seconds, so a second sender (another process, another trigger) cannot take it
        too; a sender that dies before `mark_pushed` leaves it to be taken again after that.
        One conditional UPDATE, atomic on SQLite and PostgreSQL alike."""
        earlier = aliased(Message)
        with self._uow() as uow:
            now = uow.clock()
            result = uow.session.execute(
                update(Message)
                .where(
                    Message.id == message_id,
                    Message.delivery == Delivery.PENDING,
                    Message.next_attempt_at <= now,
                    ~exists().where(
                        earlier.conversation_id == Message.conversation_id,
                        earlier.delivery == Delivery.PENDING,
                        earlier.id < Message.id,
                    ),
                )
                .values(next_attempt_at=now + timedelta(seconds=lease))
                .execution_options(synchronize_session=False)
            )
            uow.commit()
            return bool(getattr(result, "rowcount", 0) == 1)

    def mark_pushed(
        self, message_id: int, *, ok: bool, retry_in: float = 30.0, give_up: bool = False
    ) -> None:
        """Record a push: sent, or failed (retried with backoff; `give_up`: never again, e.g.
        the customer blocked the bot)."""
        with self._uow() as uow:
            row = uow.session.get(Message, message_id)
            if row is None or row.delivery != Delivery.PENDING:
                return
            if ok:
                row.delivery = Delivery.SENT
                row.next_attempt_at = None
            else:
                row.attempts += 1
                if give_up or row.attempts >= 8:
                    row.delivery, row.next_attempt_at = Delivery.FAILED, None
                else:
                    row.next_attempt_at = uow.clock() + timedelta(
                        seconds=retry_in * 2 ** (row.attempts - 1)
                    )
            uow.commit()

    def set_language(self, conversation_id: str, language: str) -> None:
        with self._uow() as uow:
            uow.session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(language=language)
            )
            uow.commit()
