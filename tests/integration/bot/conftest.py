"""Fixtures for conversation tests: the real engine, the real NLU and knowledge base, the
fulfilment core on SQLite and PostgreSQL with fake suppliers and payments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.engine import DialogueEngine, Incoming, Reply
from bot.models import Channel
from desk.models import Ticket
from knowledge_base import KnowledgeBase, KnowledgeBaseService
from nlu import build_parser
from nlu.config import NLUConfig
from tests.conftest import assert_every_event_dispatched
from tests.containers import make_container


@pytest.fixture(scope="session")
def nlu_parser():  # type: ignore[no-untyped-def]
    return build_parser(NLUConfig())


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase()


@dataclass(frozen=True)
class TicketSeen:
    id: int
    conversation_id: str
    category: str
    reason: str
    priority: str
    order_no: str | None
    status: str
    language: str
    details: dict[str, Any]


class Tickets:
    """The desk tickets the bot's handoffs opened, oldest first (read from the database)."""

    def __init__(self, uow_factory) -> None:  # type: ignore[no-untyped-def]
        self._uow = uow_factory

    @property
    def requests(self) -> list[TicketSeen]:
        with self._uow() as uow:
            return [
                TicketSeen(
                    t.id,
                    t.conversation_id,
                    t.category,
                    t.reason,
                    t.priority,
                    t.order_no,
                    t.status,
                    t.language,
                    dict(t.details or {}),
                )
                for t in uow.session.scalars(select(Ticket).order_by(Ticket.id))
            ]


@pytest.fixture
def container(parts, session_factory, nlu_parser, knowledge):  # type: ignore[no-untyped-def]
    """The real wiring (build) over the test database and fakes, with the session's NLU model
    and knowledge base."""
    box = make_container(
        nlu=nlu_parser, kb=KnowledgeBaseService(knowledge, session_factory), **parts
    )
    yield box
    box.close()
    assert_every_event_dispatched(session_factory)


@pytest.fixture
def handoffs(container) -> Tickets:  # type: ignore[no-untyped-def]
    return Tickets(container.uow)


@pytest.fixture
def bot(container) -> DialogueEngine:  # type: ignore[no-untyped-def]
    return container.bot


class Chat:
    """A customer in one conversation: says things, taps buttons by their title."""

    def __init__(self, engine: DialogueEngine, conversation_id: str, ip: str | None = None):
        self.engine = engine
        self.id = conversation_id
        self.ip = ip
        self.last: list[Reply] = []
        self.all: list[Reply] = []

    def say(self, text: str) -> str:
        self.last = self.engine.handle(self.id, Incoming(text=text, client_ip=self.ip))
        self.all += self.last
        return self.text

    def tap(self, title: str) -> str:
        payload = self.payload(title)
        return self.tap_payload(payload)

    def tap_payload(self, payload: str) -> str:
        self.last = self.engine.handle(self.id, Incoming(payload=payload, client_ip=self.ip))
        self.all += self.last
        return self.text

    def payload(self, title: str) -> str:
        for reply in reversed(self.last):
            for button in reply.buttons:
                if title.lower() in button.title.lower():
                    return button.payload
        raise AssertionError(f"no button {title!r} in {[r.buttons for r in self.last]}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    @property
    def buttons(self) -> list[str]:
        return [b.title for r in self.last for b in r.buttons]


@pytest.fixture
def web_chat(bot):  # type: ignore[no-untyped-def]
    def open_chat(language: str | None = None, ip: str | None = "198.51.100.7") -> Chat:
        info = bot.start(channel=Channel.WEB, language=language, client_ip=ip)
        return Chat(bot, info.id, ip)

    return open_chat


@pytest.fixture
def telegram_chat(bot):  # type: ignore[no-untyped-def]
    def open_chat(user_id: str = "424242", language: str | None = "en") -> Chat:
        info = bot.telegram_conversation(
            chat_id=user_id, user_id=user_id, name="Tester", language_code=language
        )
        return Chat(bot, info.id)

    return open_chat
