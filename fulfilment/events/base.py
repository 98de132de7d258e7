"""The base of every domain event, its audit-log shape and its outbox payload.

An event is a frozen dataclass named in the past tense (`KeyDelivered`). A service records it on
its unit of work (`uow.record(event, actor=actor)`); the unit of work writes the event's audit
entry (if it has one) and an outbox row in the same transaction. Subscribers get it back from
the outbox with `Event.from_payload(name, data)`; the registry maps class names to classes, so a
name is stored and must stay stable (and unique across packages: `bot` and `desk` define theirs).

Errors:

    UnknownEvent (LookupError)   no event class is registered under that name
    TypeError                    a second class claims a registered name, or a payload field
                                 is not plain JSON (str, int, bool, None, tuples of those)
"""

from __future__ import annotations

import json
import typing
import uuid
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, cast

from fulfilment.actors import Actor

# Fields every event has, stored in their own outbox columns rather than in the payload.
ENVELOPE = ("event_id", "actor")


class UnknownEvent(LookupError):
    """An outbox row names an event class this process does not know."""


@dataclass(frozen=True)
class AuditRecord:
    """How an event appears in the audit log (the actor comes from the recording)."""

    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened. Subclasses are frozen dataclasses with plain fields."""

    _registry: ClassVar[dict[str, type[Event]]] = {}
    _tuple_fields: ClassVar[dict[type[Event], frozenset[str]]] = {}

    # A stable id: the idempotency key for subscribers (an event may be handled twice).
    event_id: str = field(default_factory=_new_id)
    # Who caused it; set by `uow.record` and restored from the outbox row.
    actor: Actor | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__name__
        if name.startswith("_"):
            return  # a private base (shared fields), never recorded itself
        known = Event._registry.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise TypeError(f"event name {name!r} is taken by {known.__module__}")
        Event._registry[name] = cls

    @property
    def name(self) -> str:
        """The name the outbox stores (the class name)."""
        return type(self).__name__

    def audit(self) -> AuditRecord | None:
        """The audit entry for this event; None when the event is not audited by itself."""
        return None

    def to_payload(self) -> dict[str, Any]:
        """The event's own fields as JSON-able data (envelope fields excluded)."""
        data = {
            f.name: list(value) if isinstance(value, tuple) else value
            for f in fields(self)
            if f.name not in ENVELOPE
            for value in (getattr(self, f.name),)
        }
        try:
            json.dumps(data)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{self.name} has a field that is not plain JSON: {exc}") from None
        return data

    @classmethod
    def from_payload(
        cls,
        name: str,
        data: dict[str, Any],
        *,
        event_id: str | None = None,
        actor: Actor | None = None,
    ) -> Event:
        """Rebuild an event from its outbox row."""
        klass = cls._registry.get(name)
        if klass is None:
            raise UnknownEvent(f"no event class {name!r} is registered")
        tuples = klass._tuple_field_names()
        values = {
            k: tuple(v) if k in tuples and isinstance(v, list) else v for k, v in data.items()
        }
        if event_id is not None:
            values["event_id"] = event_id
        values["actor"] = actor
        return cast(Event, cast(Any, klass)(**values))

    @classmethod
    def registered(cls) -> dict[str, type[Event]]:
        """Every event class known in this process, by name."""
        return dict(cls._registry)

    @classmethod
    def _tuple_field_names(cls) -> frozenset[str]:
        known = Event._tuple_fields.get(cls)
        if known is None:
            hints = typing.get_type_hints(cls)
            known = frozenset(
                f.name
                for f in fields(cls)
                if typing.get_origin(hints.get(f.name)) is tuple or hints.get(f.name) is tuple
            )
            Event._tuple_fields[cls] = known
        return known


def order_entry(action: str, order_no: str, **parts: Any) -> AuditRecord:
    """An audit entry about an order (most of them)."""
    return AuditRecord(action, "order", order_no, **parts)


def product_entry(action: str, sku: str, **parts: Any) -> AuditRecord:
    """An audit entry about a product."""
    return AuditRecord(action, "product", sku, **parts)
