"""Fixtures for conversation tests: the real engine, the real NLU and knowledge base, the
fulfilment core on SQLite and PostgreSQL with fake suppliers and payments."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.engine import DialogueEngine, HandoffRequest, Incoming, Reply
from bot.guard import Guard
from bot.models import Channel
from bot.orders import OrderDesk
from bot.state import MemoryStateStore
from bot.transcript import Transcripts
from fulfilment.uow import UnitOfWork
from kamidesk.chatbot import redact_customer_text
from knowledge_base import KnowledgeBase, KnowledgeBaseService
from nlu import build_parser
from nlu.config import NLUConfig


@pytest.fixture(scope="session")
def nlu_parser():  # type: ignore[no-untyped-def]
    return build_parser(NLUConfig())


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase()


@dataclass
class RecordingHandoffs:
    requests: list[HandoffRequest] = field(default_factory=list)
    ratings: list[tuple[str, int]] = field(default_factory=list)

    def record(self, uow: UnitOfWork, request: HandoffRequest) -> None:
        self.requests.append(request)

    def rated(self, uow: UnitOfWork, conversation_id: str, score: int) -> None:
        self.ratings.append((conversation_id, score))


@pytest.fixture
def handoffs() -> RecordingHandoffs:
    return RecordingHandoffs()


@pytest.fixture
def bot(uow, session_factory, nlu_parser, knowledge, handoffs) -> DialogueEngine:  # type: ignore[no-untyped-def]
    def uow_factory() -> UnitOfWork:
        return uow.fork()

    return DialogueEngine(
        transcripts=Transcripts(uow_factory, redact=redact_customer_text),
        state=MemoryStateStore(),
        orders=OrderDesk(uow_factory),
        nlu=nlu_parser,
        kb=KnowledgeBaseService(knowledge, session_factory),
        handoffs=handoffs,
        guard=Guard(),
    )


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
