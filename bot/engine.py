"""The dialogue engine: one customer message (or button tap) in, the bot's replies out.

Every channel (Telegram, web chat, terminal) calls `DialogueEngine.handle`; none has logic of
its own. A turn, under the conversation's lock (so two messages of one conversation are handled
one after the other, never interleaved):

1. load the conversation's state; a button payload is looked up in it (opaque tokens: a
   customer cannot forge an action for an order they have not proven);
2. understand the text (`nlu`), pick up an order number, an email or a phone from it;
3. finish what the bot was waiting for (an order number, a proof, a confirmation, details), or
   ask the decision table (`bot.policy.decide`) for the next step and run it (`bot.flows`);
4. store the customer's message and the replies in one transaction, save the state.

While a conversation is handed off to a person the bot stores what the customer writes (the
desk relays it) and does not answer.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.guard import Guard
from bot.language import detect, from_locale
from bot.models import Channel, Delivery, Sender
from bot.orders import OrderDesk
from bot.replies import Replies
from bot.state import ConversationState, StateStore
from bot.transcript import ConversationInfo, Outgoing, Transcripts
from fulfilment.actors import Actor
from fulfilment.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_TEXT = 2000
HANDOFF_ACK_SECONDS = 120


class BotError(Exception):
    """Base of the chatbot's errors.

    BotError
    ├── UnknownConversation   no conversation with that id (the web chat answers 404)
    ├── InvalidMessage        empty, over-long, or neither text nor a button
    └── TooManyRequests       a client over its rate limit (429)
    """


class UnknownConversation(BotError):
    pass


class InvalidMessage(BotError):
    pass


class TooManyRequests(BotError):
    pass


@dataclass(frozen=True)
class Incoming:
    """What a customer sent: text, or the payload of a button they tapped."""

    text: str | None = None
    payload: str | None = None
    client_ip: str | None = None  # web chat: the caller's address (guessing limits)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    id: int | None = None  # the stored message's id (the transcript cursor)


@dataclass(frozen=True)
class HandoffRequest:
    """What a person needs to take over: becomes a ticket (the desk subscribes)."""

    conversation_id: str
    channel: str
    category: str
    reason: str
    priority: str = "normal"  # normal | high
    order_no: str | None = None
    language: str = "en"
    customer_name: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Handoffs(Protocol):
    """What the bot tells the rest of the system, in the turn's transaction (the wiring records
    events the desk subscribes to; the bot never imports the desk)."""

    def record(self, uow: UnitOfWork, request: HandoffRequest) -> None: ...

    def rated(self, uow: UnitOfWork, conversation_id: str, score: int) -> None: ...


class Understanding(Protocol):
    def parse(self, text: str) -> dict[str, Any]: ...


class DialogueEngine:
    """Shared by every channel; thread-safe (one lock per conversation)."""

    def __init__(
        self,
        *,
        transcripts: Transcripts,
        state: StateStore,
        orders: OrderDesk,
        nlu: Understanding,
        kb: Any,
        handoffs: Handoffs,
        guard: Guard | None = None,
        replies: Replies | None = None,
        disambiguate: Callable[[dict[str, Any]], tuple[str, str] | None] | None = None,
    ) -> None:
        self.transcripts = transcripts
        self.state = state
        self.orders = orders
        self.nlu = nlu
        self.kb = kb
        self.handoffs = handoffs
        self.guard = guard or Guard()
        self.replies = replies or Replies()
        self.disambiguate = disambiguate

    # -- conversations ------------------------------------------------------------------------

    def start(
        self,
        *,
        channel: Channel = Channel.WEB,
        language: str | None = None,
        name: str | None = None,
        client_ip: str | None = None,
    ) -> ConversationInfo:
        """A new conversation (web chat, terminal); limited per client IP."""
        if not self.guard.new_conversation(client_ip):
            raise TooManyRequests("too many new conversations from this address")
        return self.transcripts.create(
            channel=channel,
            language=from_locale(language) or "en",
            name=name,
            client_ip=client_ip,
        )

    def telegram_conversation(
        self, *, chat_id: str, user_id: str, name: str | None, language_code: str | None
    ) -> ConversationInfo:
        return self.transcripts.for_chat(
            channel=Channel.TELEGRAM,
            chat_id=chat_id,
            user_id=user_id,
            name=name,
            language=from_locale(language_code) or "en",
        )

    # -- a turn -------------------------------------------------------------------------------

    def handle(self, conversation_id: str, incoming: Incoming) -> list[Reply]:
        """Handle one message or button tap; returns the replies (already stored)."""
        text = (incoming.text or "").strip()
        if incoming.payload is None and not text:
            raise InvalidMessage("a message needs text or a button payload")
        if len(text) > MAX_TEXT:
            raise InvalidMessage(f"a message is at most {MAX_TEXT} characters")
        conversation = self.transcripts.get(conversation_id)
        if conversation is None:
            raise UnknownConversation(conversation_id)
        if not self.guard.message(conversation_id):
            raise TooManyRequests("too many messages; slow down")
        with self.state.lock(conversation_id):
            state = self.state.load(conversation_id)
            turn = Turn(self, conversation, state, incoming, text)
            try:
                turn.run()
            except Exception:
                log.exception("turn failed in conversation %s", conversation_id[:8])
                turn.fail()
            state.step += 1
            ids = self.transcripts.record_turn(
                conversation_id,
                turn.inbound(),
                turn.outgoing,
                language=state.language,
                links=turn.links,
                notices=[f"{key}:{conversation_id}" for key in turn.told],
                also=turn.also,
            )
            self.state.save(conversation_id, state)
        return [
            Reply(out.text, tuple(Button(b["title"], b["payload"]) for b in out.buttons), mid)
            for out, mid in zip(turn.outgoing, ids, strict=True)
        ]


class Turn:
    """One turn's working memory; the steps live in `bot.flows` and act on it."""

    def __init__(
        self,
        engine: DialogueEngine,
        conversation: ConversationInfo,
        state: ConversationState,
        incoming: Incoming,
        text: str,
    ) -> None:
        self.engine = engine
        self.conversation = conversation
        self.state = state
        self.incoming = incoming
        self.text = text
        self.outgoing: list[Outgoing] = []
        self.links: list[tuple[str, str]] = []
        self.told: list[str] = []  # notice keys the chat already covered (not sent again)
        self.handoff: HandoffRequest | None = None
        self.intent: str | None = None
        self.rating: int | None = None
        self.parsed: dict[str, Any] | None = None
        if state.language is None:
            state.language = conversation.language

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        from bot import flows

        if self.incoming.payload is not None:
            flows.tap(self, self.incoming.payload)
            return
        self.state.language = detect(self.text, self.state.language) or "en"
        if self.state.handoff:
            # A person has the conversation: the message is stored for the desk. The customer
            # hears that it arrived, once in a while, not at every message.
            now = time.time()
            if now - self.state.handoff_ack_at > HANDOFF_ACK_SECONDS:
                self.state.handoff_ack_at = now
                self.say("handoff_waiting")
            return
        flows.understand(self)

    def fail(self) -> None:
        """Something broke mid-turn: apologise and offer a person (nothing was half-done:
        every action is its own idempotent service call)."""
        self.outgoing = []
        self.say("error", buttons_extra=())

    def inbound(self) -> Outgoing | None:
        if self.incoming.payload is not None:
            action = self.state.buttons.get(self.incoming.payload)
            title = action.get("title") if action else None
            return Outgoing(Sender.CUSTOMER, f"[{title or 'button'}]", intent=self.intent)
        return Outgoing(Sender.CUSTOMER, self.text, intent=self.intent)

    def also(self, uow: UnitOfWork) -> None:
        if self.handoff is not None:
            self.engine.handoffs.record(uow, self.handoff)
        if self.rating is not None:
            self.engine.handoffs.rated(uow, self.conversation.id, self.rating)

    # -- helpers the flows use ----------------------------------------------------------------

    @property
    def language(self) -> str:
        return self.state.language or self.conversation.language or "en"

    @property
    def claimant(self) -> str:
        if self.conversation.channel == Channel.TELEGRAM and self.conversation.user_id:
            return f"tg:{self.conversation.user_id}"
        return f"{self.conversation.channel}:{self.conversation.id}"

    @property
    def actor(self) -> Actor:
        """The customer as the fulfilment core records them (claimant and actor in one)."""
        return Actor.customer(self.claimant, self.conversation.name or "")

    def request_id(self, token: str) -> str:
        """Idempotency key of an action: the conversation and the step (a button's token)."""
        return f"bot:{self.conversation.id[:24]}:{token}"[:80]

    def t(self, key: str, **values: object) -> str:
        return self.engine.replies.text(key, self.language, **values)

    def say(
        self,
        key: str,
        *,
        secret: dict[str, str] | None = None,
        buttons_extra: tuple[tuple[str, dict[str, Any]], ...] = (),
        **values: object,
    ) -> None:
        """Add a reply from the templates. `secret` values are shown to the customer but stored
        masked; template buttons and `buttons_extra` (title, action) become opaque tokens."""
        rendered = self.engine.replies.render(key, self.language, **values, **(secret or {}))
        stored = None
        if secret:
            masked = {name: mask_text(value) for name, value in secret.items()}
            stored = self.engine.replies.render(key, self.language, **values, **masked).text
        buttons = [self.button(b.title, parse_action(b.action)) for b in rendered.buttons]
        buttons += [self.button(title, action) for title, action in buttons_extra]
        self.outgoing.append(
            Outgoing(Sender.BOT, rendered.text, buttons, stored_text=stored, intent=self.intent)
        )

    def button(self, title: str, action: dict[str, Any]) -> dict[str, str]:
        token = secrets.token_urlsafe(9)
        self.state.remember_button(token, {**action, "title": title[:60]})
        return {"title": title, "payload": token}


def parse_action(action: str) -> dict[str, Any]:
    """A template button's action: `intent:order_status`, `handoff`, `cancel`, ..."""
    kind, _, arg = action.partition(":")
    if kind == "intent":
        return {"do": "intent", "intent": arg}
    if kind == "handoff":
        return {"do": "handoff", "category": arg or "human_agent"}
    return {"do": kind, **({"arg": arg} if arg else {})}


def mask_text(value: str) -> str:
    """A shown secret as stored: each key reduced to its last four characters."""
    from fulfilment.keyvault import mask

    return "\n".join(mask(line) if line.strip() else line for line in value.split("\n"))


__all__ = [
    "BotError",
    "Button",
    "DialogueEngine",
    "HandoffRequest",
    "Handoffs",
    "Incoming",
    "InvalidMessage",
    "Reply",
    "TooManyRequests",
    "UnknownConversation",
]


def push_delivery_for(channel: str) -> str:
    """Proactive messages: Telegram needs a push; web chat pages read the transcript."""
    return Delivery.PENDING if channel == Channel.TELEGRAM else Delivery.NONE
