"""Per-conversation dialogue state and the lock that keeps one conversation's turns in order.

The state is small JSON: language, the order under discussion, which orders this conversation
proved it owns (and how), the question the bot is waiting for an answer to, the buttons it has
shown (a button's payload is an opaque token looked up here, so a customer cannot forge
"reissue order X"), counters and the handoff flag.

Two stores behind one protocol, the engine's code is the same for both:
- `MemoryStateStore`: the embedded default, one process; lost at restart.
- `RedisStateStore`: when REDIS_URL is set; shared by every app process, survives a restart,
  expires after `ttl` of silence. The per-conversation lock is redis-py's `Lock`, so two app
  processes never handle two messages of one conversation at the same time.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from redis import Redis
from redis.exceptions import LockError

MAX_BUTTONS = 40  # oldest button tokens are forgotten first


class ConversationBusy(RuntimeError):
    """The conversation's lock could not be taken in time (a turn is stuck)."""


@dataclass
class Pending:
    """What the bot asked and is waiting for."""

    kind: str  # ask_order | ask_proof | confirm | collect | csat | choose
    intent: str | None = None  # the flow to resume once answered
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConversationState:
    language: str | None = None
    order_no: str | None = None
    proven: dict[str, str] = field(default_factory=dict)  # order_no -> "kind:value"
    proof_hint: str | None = None  # an email/phone given before the order number
    pending: Pending | None = None
    buttons: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> action
    used_buttons: list[str] = field(default_factory=list)
    fallbacks: int = 0
    failed_proofs: int = 0
    handoff: bool = False
    handoff_ack_at: float = 0.0  # when the customer was last told a person has it
    step: int = 0  # increases every turn: part of request ids

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> ConversationState:
        if not raw:
            return cls()
        data = json.loads(raw)
        pending = data.pop("pending", None)
        state = cls(**data)
        state.pending = Pending(**pending) if pending else None
        return state

    def remember_button(self, token: str, action: dict[str, Any]) -> None:
        self.buttons[token] = action
        while len(self.buttons) > MAX_BUTTONS:
            self.buttons.pop(next(iter(self.buttons)))

    def mark_used(self, token: str) -> None:
        self.used_buttons.append(token)
        del self.used_buttons[:-MAX_BUTTONS]


class StateStore(Protocol):
    """Where conversation state lives, and the lock around one conversation's turn."""

    def load(self, conversation_id: str) -> ConversationState: ...

    def save(self, conversation_id: str, state: ConversationState) -> None: ...

    def lock(self, conversation_id: str) -> Any: ...  # a context manager


class MemoryStateStore:
    """In-process state (embedded default): a bounded LRU with a time-to-live."""

    def __init__(self, *, ttl: float = 7 * 86400, max_conversations: int = 100_000) -> None:
        self._ttl = ttl
        self._max = max_conversations
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def load(self, conversation_id: str) -> ConversationState:
        with self._guard:
            item = self._data.get(conversation_id)
            if item is None or item[0] < time.monotonic():
                return ConversationState()
            return ConversationState.from_json(item[1])

    def save(self, conversation_id: str, state: ConversationState) -> None:
        with self._guard:
            self._data[conversation_id] = (time.monotonic() + self._ttl, state.to_json())
            self._data.move_to_end(conversation_id)
            while len(self._data) > self._max:
                old, _ = self._data.popitem(last=False)
                self._locks.pop(old, None)

    @contextmanager
    def lock(self, conversation_id: str, timeout: float = 30.0) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(conversation_id, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise ConversationBusy(conversation_id)
        try:
            yield
        finally:
            lock.release()


class RedisStateStore:
    """State as JSON in Redis with a TTL; a Redis lock per conversation."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "kamidesk:bot",
        ttl: int = 7 * 86400,
        lock_timeout: float = 60.0,
        wait: float = 30.0,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._lock_timeout = lock_timeout
        self._wait = wait

    def _key(self, conversation_id: str) -> str:
        return f"{self._prefix}:state:{conversation_id}"

    def load(self, conversation_id: str) -> ConversationState:
        return ConversationState.from_json(self._redis.get(self._key(conversation_id)))

    def save(self, conversation_id: str, state: ConversationState) -> None:
        self._redis.set(self._key(conversation_id), state.to_json(), ex=self._ttl)

    @contextmanager
    def lock(self, conversation_id: str) -> Iterator[None]:
        # `timeout` frees the lock if the holder died mid-turn; `blocking_timeout` bounds the
        # wait of the next message of the same conversation.
        lock = self._redis.lock(
            f"{self._prefix}:lock:{conversation_id}",
            timeout=self._lock_timeout,
            blocking_timeout=self._wait,
        )
        if not lock.acquire():
            raise ConversationBusy(conversation_id)
        try:
            yield
        finally:
            # LockError: it expired while held (the turn took longer than the timeout).
            with contextlib.suppress(LockError):
                lock.release()
