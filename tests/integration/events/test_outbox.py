"""Events, the outbox and their dispatch on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from fulfilment.actors import Actor
from fulfilment.events import OrderPaid, ProductPaused, SupplierCreated
from fulfilment.models import Alert, AuditEntry, OutboxEntry, Product, Supplier, utcnow
from fulfilment.services import catalog
from fulfilment.services.delivery import deliver_order
from fulfilment.services.orders import record_payment
from kamidesk.events import DispatchStatus
from kamidesk.jobs import DISPATCH_JOB, InProcessJobs
from tests.containers import RecordingJobs, make_container
from tests.factories import card_product, paid_order

pytestmark = pytest.mark.integration
ALICE = Actor.agent("alice", "Alice Wang")


@pytest.fixture
def undispatched(parts):  # type: ignore[no-untyped-def]
    """A container whose commits hand their events to nobody (a crash right after commit)."""
    box = make_container(jobs=RecordingJobs(inline=()), **parts)
    yield box
    box.close()


def _count(uow, model) -> int:  # type: ignore[no-untyped-def]
    with uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _rows(uow) -> list[OutboxEntry]:  # type: ignore[no-untyped-def]
    with uow:
        return list(uow.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _later(box, minutes: int = 1) -> None:  # type: ignore[no-untyped-def]
    box.bus.clock = lambda: utcnow() + timedelta(minutes=minutes)


def test_an_event_is_written_to_the_audit_log_and_the_outbox_in_its_transaction(undispatched):
    uow = undispatched.uow()
    catalog.add_supplier(uow=uow, code="sup-a", name="A", actor=ALICE)
    [entry] = _rows(uow)
    assert (entry.name, entry.payload) == ("SupplierCreated", {"code": "sup-a"})
    assert (entry.actor, entry.actor_kind, entry.actor_name) == (
        "agent:alice",
        "agent",
        "Alice Wang",
    )
    assert entry.dispatched_at is None and entry.handled == []
    with uow:
        audit = uow.session.scalars(select(AuditEntry)).one()
    assert (audit.action, audit.entity_id, audit.actor) == (
        "supplier.created",
        "sup-a",
        "agent:alice",
    )


def test_events_of_a_transaction_that_does_not_commit_are_never_written(undispatched):
    uow = undispatched.uow()
    with uow:  # left without commit
        uow.record(SupplierCreated(code="ghost"), actor=ALICE)
    with pytest.raises(RuntimeError), uow:
        uow.record(SupplierCreated(code="ghost-2"), actor=ALICE)
        raise RuntimeError("the use case failed")
    catalog.add_supplier(uow=uow, code="sup-a", name="A", actor=ALICE)
    with pytest.raises(IntegrityError), uow:  # the business write fails at commit
        uow.session.add(Supplier(code="sup-a", name="again"))
        uow.record(SupplierCreated(code="sup-a"), actor=ALICE)
        uow.commit()
    assert [r.payload["code"] for r in _rows(uow)] == ["sup-a"]
    assert _count(uow, AuditEntry) == 1
    assert undispatched.jobs.triggered == [(DISPATCH_JOB, _rows(uow)[0].id)]


def test_on_commit_gets_the_ids_only_after_the_rows_are_committed(parts, session_factory):
    seen: list[list[str]] = []

    def hook(ids) -> None:  # type: ignore[no-untyped-def]
        with session_factory() as other:  # another connection sees them: committed
            seen.append(
                list(other.scalars(select(OutboxEntry.name).where(OutboxEntry.id.in_(ids))))
            )

    box = make_container(**parts)
    uow = box.uow()
    uow._on_commit = hook  # what the wiring injects, replaced by a probe
    card_product(uow, keys=1)
    assert seen[0] == ["ProductCreated"]
    assert ["KeysImported"] in seen
    box.close()


def test_a_crash_between_commit_and_dispatch_is_made_good_by_the_sweep(parts, suppliers):
    suppliers.add("sup-a")
    runner = InProcessJobs(sweep_interval=0.05)
    box = make_container(jobs=runner, **parts)
    got: list[str] = []
    box.bus.subscribe(OrderPaid, "test.record_paid", lambda e: got.append(e.order_no))
    uow = box.uow()
    card_product(uow, keys=2, safety_stock=2)
    paid_order(uow, "KM3000000001")  # committed while no runner listens: nobody dispatched
    assert got == [] and box.bus.pending() == []  # too fresh for the sweep yet

    async def sweep_later() -> None:
        _later(box)  # the rows are old enough now
        await runner.start()
        try:
            for _ in range(200):
                if not box.bus.pending() and got and _paused(uow):
                    break
                await asyncio.sleep(0.02)
            await runner.drain()
        finally:
            await runner.stop()

    asyncio.run(sweep_later())
    assert got == ["KM3000000001"]
    # The delivery trigger ran too: delivered, the stock fell under 2, the product paused.
    assert _paused(uow)
    assert all(r.dispatched_at is not None for r in _rows(uow))
    box.close()


def _paused(uow) -> bool:  # type: ignore[no-untyped-def]
    with uow:
        return uow.session.scalar(select(Product.status)) == "paused"


def test_a_failing_subscriber_is_retried_without_running_the_others_again(undispatched):
    calls = {"first": 0, "flaky": 0, "last": 0}

    def counter(name):  # type: ignore[no-untyped-def]
        def handle(event) -> None:  # type: ignore[no-untyped-def]
            calls[name] += 1
            if name == "flaky" and calls[name] == 1:
                raise ConnectionError("card key SECRET-1234 in a message")

        return handle

    bus = undispatched.bus
    for name in calls:
        bus.subscribe(SupplierCreated, f"test.{name}", counter(name))
    uow = undispatched.uow()
    catalog.add_supplier(uow=uow, code="sup-a", name="A", actor=ALICE)
    [row] = _rows(uow)
    first = bus.dispatch(row.id)
    assert (first.status, first.ran, first.failed) == (
        DispatchStatus.RETRY,
        ("test.first", "test.last"),
        ("test.flaky",),
    )
    [row] = _rows(uow)
    assert row.handled == ["test.first", "test.last"] and row.dispatched_at is None
    assert "ConnectionError" in (row.last_error or "") and "SECRET" not in (row.last_error or "")
    assert bus.pending() == []  # backing off
    _later(undispatched)
    assert bus.pending() == [row.id]
    second = bus.dispatch(row.id)
    assert (second.status, second.ran) == (DispatchStatus.DISPATCHED, ("test.flaky",))
    assert calls == {"first": 1, "flaky": 2, "last": 1}
    assert bus.dispatch(row.id).status == DispatchStatus.DISPATCHED  # nothing runs again
    assert calls == {"first": 1, "flaky": 2, "last": 1}
    assert bus.pending() == []


def test_a_row_another_dispatcher_holds_is_left_alone(undispatched):
    got: list[str] = []
    undispatched.bus.subscribe(SupplierCreated, "test.got", lambda e: got.append(e.code))
    uow = undispatched.uow()
    catalog.add_supplier(uow=uow, code="sup-a", name="A", actor=ALICE)
    [row] = _rows(uow)
    with uow:
        uow.session.execute(
            update(OutboxEntry).values(claimed_until=utcnow() + timedelta(minutes=1))
        )
        uow.commit()
    assert undispatched.bus.dispatch(row.id).status == DispatchStatus.BUSY
    _later(undispatched, minutes=5)  # the claim expired (its dispatcher died)
    assert undispatched.bus.dispatch(row.id).status == DispatchStatus.DISPATCHED
    assert got == ["sup-a"]


def test_a_row_of_an_event_this_process_does_not_know_waits_with_its_error(undispatched):
    uow = undispatched.uow()
    catalog.add_supplier(uow=uow, code="sup-a", name="A", actor=ALICE)
    [row] = _rows(uow)
    with uow:
        uow.session.execute(update(OutboxEntry).values(name="HandoffRequested"))
        uow.commit()
    assert undispatched.bus.dispatch(row.id).status == DispatchStatus.RETRY
    assert _rows(uow)[0].last_error == "unknown event"


def test_subscribers_see_the_actor_who_caused_the_event(undispatched):
    seen: list[Actor | None] = []
    undispatched.bus.subscribe(SupplierCreated, "test.actor", lambda e: seen.append(e.actor))
    uow = undispatched.uow()
    catalog.add_supplier(uow=uow, code="sup-a", name="A", actor=ALICE)
    undispatched.bus.dispatch(_rows(uow)[0].id)
    assert seen == [ALICE]


def test_handling_every_event_a_second_time_changes_nothing(container, uow, suppliers):
    # Each core subscriber must be idempotent: an event may be dispatched twice.
    suppliers.add("sup-a")
    card_product(uow, keys=3, safety_stock=3)
    paid_order(uow, "KM3000000002", quantity=2)
    deliver_order(uow=uow, order_no="KM3000000002", actor=Actor.system("test"))
    paid_order(uow, "KM3000000003", quantity=2)
    deliver_order(uow=uow, order_no="KM3000000003", actor=Actor.system("test"))  # waits
    record_payment(
        uow=uow,
        order_no="KM3000000002",
        txn_id="PAY-2",
        amount_cents=100_00,
        currency="CNY",
        source="callback",
        actor=Actor.system("test"),
    )
    before = _state(uow)
    assert before["alerts"] == ["duplicate_payment", "low_stock", "out_of_stock"]
    with uow:
        uow.session.execute(update(OutboxEntry).values(dispatched_at=None, handled=[]))
        uow.commit()
    for row in _rows(uow):
        assert container.bus.dispatch(row.id).status == DispatchStatus.DISPATCHED
    assert _state(uow) == before
    assert container.jobs.deliveries == ["KM3000000002", "KM3000000003"] * 2  # triggers only


def _state(uow) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with uow:
        return {
            "alerts": sorted(uow.session.scalars(select(Alert.kind))),
            "audit": uow.session.scalar(select(func.count()).select_from(AuditEntry)),
            "products": list(uow.session.execute(select(Product.status, Product.pause_reason))),
            "outbox": uow.session.scalar(select(func.count()).select_from(OutboxEntry)),
        }


def test_an_alert_is_not_raised_again_once_its_situation_is_settled(container, uow, suppliers):
    suppliers.add("sup-a")
    card_product(uow, keys=1, safety_stock=1)
    paid_order(uow, "KM3000000004")
    deliver_order(uow=uow, order_no="KM3000000004", actor=Actor.system("test"))
    catalog.import_keys(uow=uow, sku="STEAM-50", keys=["NEW-0001-WXYZ"], actor=Actor.system("t"))
    with uow:  # the pause was resolved by the import: its alert too
        low = uow.session.scalars(select(Alert).where(Alert.kind == "low_stock")).one()
        assert low.resolved_at is not None
        paused = uow.session.scalars(
            select(OutboxEntry).where(OutboxEntry.name == ProductPaused.__name__)
        ).one()
        paused.dispatched_at, paused.handled = None, []
        uow.commit()
    container.bus.dispatch(paused.id)  # a late redelivery of the pause
    with uow:
        open_alerts = uow.session.scalars(select(Alert).where(Alert.resolved_at.is_(None))).all()
    assert open_alerts == []


def test_the_backlog_metric_counts_events_not_yet_handled(undispatched):
    from kamidesk.observability import Operations

    def events_waiting() -> float:
        ops = Operations(undispatched, undispatched.jobs)
        owed = next(m for m in ops.backlog.collect() if m.name == "kamidesk_backlog")
        return next(s.value for s in owed.samples if s.labels == {"kind": "events"})

    uow = undispatched.uow()
    assert events_waiting() == 0
    catalog.add_supplier(uow=uow, code="sup-a", name="A", actor=ALICE)
    catalog.add_supplier(uow=uow, code="sup-b", name="B", actor=ALICE)
    assert events_waiting() == 2
    undispatched.bus.dispatch(_rows(uow)[0].id)
    assert events_waiting() == 1
