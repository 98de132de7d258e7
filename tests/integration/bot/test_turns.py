"""Turns of one conversation never interleave; state in Redis survives a restart."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from redis import Redis

from bot.engine import DialogueEngine, Incoming
from bot.guard import Guard
from bot.orders import OrderDesk
from bot.state import ConversationState, MemoryStateStore, Pending, RedisStateStore
from bot.transcript import Transcripts
from fulfilment.ports import KeyCheckStatus
from kamidesk.chatbot import TicketHandoffs
from tests.conftest import REDIS_URL, service_unavailable
from tests.integration.bot.conftest import Chat
from tests.integration.bot.shop import (
    EMAIL,
    KEY_ORDER,
    delivered_key,
    key_shop,
    mark_key,
    reissues,
)


@pytest.fixture
def redis_client():  # type: ignore[no-untyped-def]
    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        service_unavailable("Redis", exc)
    yield client
    client.close()


def _engine(container, nlu_parser, state):  # type: ignore[no-untyped-def]
    """An engine like the container's, with the state store under test."""
    return DialogueEngine(
        transcripts=Transcripts(container.uow),
        state=state,
        orders=OrderDesk(container.uow),
        nlu=nlu_parser,
        kb=container.kb,
        handoffs=TicketHandoffs(),
        guard=Guard(),
    )


def test_a_conversation_continues_after_a_restart_with_state_in_redis(
    uow, suppliers, container, nlu_parser, redis_client
):
    supplier, _ = key_shop(uow, suppliers)
    mark_key(supplier, delivered_key(uow), KeyCheckStatus.INVALID)
    prefix = f"kamidesk-test:{uuid.uuid4().hex[:8]}"
    before = _engine(
        container,
        nlu_parser,
        RedisStateStore(redis_client, prefix=prefix),
    )
    conversation = before.start(language="en")
    chat = Chat(before, conversation.id)
    chat.say(f"my key for {KEY_ORDER} is invalid")
    chat.say(EMAIL)
    payload = chat.payload("Yes")
    # The process restarts: a new engine, a new Redis connection, the same Redis.
    after = _engine(
        container,
        nlu_parser,
        RedisStateStore(Redis.from_url(REDIS_URL), prefix=prefix),
    )
    resumed = Chat(after, conversation.id)
    answer = resumed.tap_payload(payload)
    assert delivered_key(uow) in answer and reissues(uow, "reissued") == 1
    # With in-process state the same restart forgets the proof: no action, no key.
    fresh = _engine(container, nlu_parser, MemoryStateStore())
    assert "no longer valid" in Chat(fresh, conversation.id).tap_payload(payload)


class SlowParser:
    """An NLU parser that takes its time and notices two parses of one conversation at once."""

    def __init__(self, parser) -> None:  # type: ignore[no-untyped-def]
        self.parser = parser
        self.busy = 0
        self.overlaps = 0
        self.guard = threading.Lock()

    def parse(self, text: str):  # type: ignore[no-untyped-def]
        with self.guard:
            self.busy += 1
            self.overlaps += self.busy > 1
        time.sleep(0.2)
        with self.guard:
            self.busy -= 1
        return self.parser.parse(text)


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_two_messages_of_one_conversation_are_handled_one_after_the_other(
    store, uow, suppliers, container, nlu_parser, request
):
    key_shop(uow, suppliers)
    if store == "redis":
        client = request.getfixturevalue("redis_client")
        state = RedisStateStore(client, prefix=f"kamidesk-test:{uuid.uuid4().hex[:8]}")
    else:
        state = MemoryStateStore()
    slow = SlowParser(nlu_parser)
    engine = _engine(container, slow, state)
    conversation = engine.start(language="en")
    # The order number arrives while the first message is still being handled; the proof
    # must see it (no lost update of the state).
    messages = [f"where is my order {KEY_ORDER}", EMAIL]
    threads = []
    for text in messages:
        thread = threading.Thread(
            target=engine.handle, args=(conversation.id, Incoming(text=text))
        )
        thread.start()
        threads.append(thread)
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert slow.overlaps == 0
    transcript = engine.transcripts.messages(conversation.id)
    senders = [m.sender for m in transcript]
    # Whichever came first, each message is followed by its own replies (never interleaved),
    # and the proof is not lost: the key is shown at the end.
    assert sorted(m.text for m in transcript if m.sender == "customer") == sorted(messages)
    assert senders[0] == "customer" and senders[-1] == "bot"
    second = senders.index("customer", 1)
    assert all(s == "bot" for s in senders[1:second]) and second > 1
    assert delivered_key(uow)[-4:] in "\n".join(m.text for m in transcript[second:])


def test_a_double_tapped_button_from_two_requests_at_once_acts_once(
    uow, suppliers, container, nlu_parser
):
    supplier, _ = key_shop(uow, suppliers)
    mark_key(supplier, delivered_key(uow), KeyCheckStatus.INVALID)
    engine = _engine(container, nlu_parser, MemoryStateStore())
    conversation = engine.start(language="en")
    chat = Chat(engine, conversation.id)
    chat.say(f"my key for {KEY_ORDER} is invalid")
    chat.say(EMAIL)
    payload = chat.payload("Yes")
    threads = [
        threading.Thread(target=engine.handle, args=(conversation.id, Incoming(payload=payload)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reissues(uow) == 1 and reissues(uow, "reissued") == 1


def test_state_round_trips_through_json():
    state = ConversationState(language="zh-TW", order_no="KM1", proven={"KM1": "email:a@b.c"})
    state.pending = Pending("confirm", intent="key_invalid", data={"token": "t"})
    state.remember_button("t", {"do": "reissue", "order_no": "KM1"})
    again = ConversationState.from_json(state.to_json())
    assert again == state
