"""Domain events: a registry by name, plain payloads that survive the outbox, audit shapes."""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, fields

import pytest

import fulfilment.events as events
from fulfilment.actors import Actor
from fulfilment.events import Event, KeyDelivered, ReissueNeedsReview, UnknownEvent
from fulfilment.events.base import ENVELOPE

SAMPLES: dict[object, object] = {str: "x-1", int: 7, bool: True}


def _sample(hint: object) -> object:
    if hint in SAMPLES:
        return SAMPLES[hint]
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        return (_sample(args[0]), _sample(args[0]))
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return _sample(next(a for a in args if a is not type(None)))
    raise AssertionError(f"no sample for {hint!r}")


def _example(cls: type[Event]) -> Event:
    hints = typing.get_type_hints(cls)
    values = {f.name: _sample(hints[f.name]) for f in fields(cls) if f.name not in ENVELOPE}
    return cls(**values)  # type: ignore[arg-type]


CORE = sorted(
    (c for c in Event.registered().values() if c.__module__.startswith("fulfilment.")),
    key=lambda c: c.__name__,
)


def test_every_event_of_the_core_is_exported_and_registered_by_its_name():
    assert len(CORE) >= 40
    assert {c.__name__ for c in CORE} <= set(events.__all__)
    assert all(Event.registered()[c.__name__] is c for c in CORE)


@pytest.mark.parametrize("cls", CORE, ids=lambda c: c.__name__)
def test_every_event_survives_the_outbox_unchanged(cls):
    actor = Actor.agent("alice", "Alice Wang")
    event = _example(cls)
    stored = json.loads(json.dumps(event.to_payload()))  # what the JSON column gives back
    back = Event.from_payload(cls.__name__, stored, event_id=event.event_id, actor=actor)
    assert back == typing.cast(typing.Any, event).__class__(
        **{f.name: getattr(event, f.name) for f in fields(event) if f.name != "actor"},
        actor=actor,
    )
    entry = back.audit()
    if entry is not None:
        json.dumps([entry.before, entry.after])  # the audit log's JSON columns take them
        assert entry.action and entry.entity and entry.entity_id


def test_tuples_come_back_as_tuples_and_masked_hints_are_all_a_delivery_carries():
    delivered = KeyDelivered(
        order_no="KM1",
        sku="S",
        unit_nos=(1, 2),
        key_hints=("****AB12", "****CD34"),
        order_complete=True,
        status_before="paid",
        status_after="delivered",
        owed=2,
    )
    back = Event.from_payload("KeyDelivered", json.loads(json.dumps(delivered.to_payload())))
    assert back.unit_nos == (1, 2) and back.key_hints == ("****AB12", "****CD34")  # type: ignore[attr-defined]
    assert delivered.audit().after == {"status": "delivered", "keys": ["****AB12", "****CD34"]}


def test_a_review_decided_on_request_has_no_audit_entry_of_its_own():
    review = ReissueNeedsReview(
        order_no="KM1", request_id="r", code="limit_order", check=None, detail="limit_order: 2"
    )
    assert review.audit().action == "reissue.needs_review"  # type: ignore[union-attr]
    assert ReissueNeedsReview(**{**review.to_payload(), "on_request": True}).audit() is None


def test_an_unknown_name_is_refused():
    with pytest.raises(UnknownEvent):
        Event.from_payload("NoSuchEvent", {})


def test_a_second_event_class_cannot_take_a_registered_name():
    with pytest.raises(TypeError, match="taken"):
        type("OrderPaid", (Event,), {"__module__": "desk.events"})


def test_other_packages_define_their_own_events():
    @dataclass(frozen=True)
    class HandoffRequestedForTest(Event):
        conversation: str
        reason: str

    event = HandoffRequestedForTest(conversation="tg:1", reason="asked for a person")
    back = Event.from_payload("HandoffRequestedForTest", event.to_payload())
    assert back.conversation == "tg:1" and back.audit() is None  # type: ignore[attr-defined]


def test_a_field_that_is_not_plain_json_is_refused():
    from decimal import Decimal

    @dataclass(frozen=True)
    class PricedForTest(Event):
        price: object

    with pytest.raises(TypeError, match="plain JSON"):
        PricedForTest(price=Decimal("1.00")).to_payload()
