from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.models import SupplierOrder
from fulfilment.ports import SignatureError, SupplierOutcome, SupplierResult
from fulfilment.services.delivery import deliver_order
from fulfilment.services.queries import get_order
from fulfilment.services.recovery import run_due_work
from fulfilment.services.refunds import request_refund
from fulfilment.services.topup import handle_supplier_callback
from tests.factories import paid_order, topup_product

ORDER = "DJ20261122000001"


def _topup(uow, suppliers, *codes):
    fakes = [suppliers.add(code) for code in codes]
    topup_product(uow, suppliers=codes)
    paid_order(uow, ORDER, sku="CM-100", price="98.50", account="13800138000")
    return fakes


def _attempts(uow):
    with uow:
        return [
            (s.supplier_id, s.status)
            for s in uow.session.scalars(select(SupplierOrder).order_by(SupplierOrder.id))
        ]


def test_a_top_up_accepted_then_successful_on_query_is_delivered(uow, suppliers):
    (a,) = _topup(uow, suppliers, "sup-a")
    outcome = deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    assert outcome.status == "delivered"  # poll interval 0: queried straight away
    assert a.calls == [("submit", f"{ORDER}-1"), ("query", f"{ORDER}-1")]


def test_a_submit_timeout_is_queried_not_resubmitted_or_failed_over(uow, suppliers):
    a, b = _topup(uow, suppliers, "sup-a", "sup-b")
    # The submit times out although the supplier took the order.
    a.submits.append(SupplierResult(SupplierOutcome.UNKNOWN, message="timeout"))
    a.received.add(f"{ORDER}-1")
    outcome = deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    assert outcome.status in ("in_progress", "delivered")
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    assert get_order(uow=uow, order_no=ORDER).status == "delivered"
    assert [c for c in a.calls if c[0] == "submit"] == [("submit", f"{ORDER}-1")]
    assert b.calls == []  # never failed over: the customer is topped up exactly once


def test_a_submit_that_never_arrived_is_submitted_again_with_the_same_ref(uow, suppliers):
    (a,) = _topup(uow, suppliers, "sup-a")
    a.submits.append(SupplierResult(SupplierOutcome.UNKNOWN, message="connection reset"))
    a.submits.append(SupplierResult(SupplierOutcome.ACCEPTED))
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    run_due_work(uow=uow, actor=Actor.system("sweeper"))
    kinds = [c for c in a.calls]
    assert kinds[:3] == [
        ("submit", f"{ORDER}-1"),
        ("query", f"{ORDER}-1"),
        ("submit", f"{ORDER}-1"),
    ]
    assert get_order(uow=uow, order_no=ORDER).status == "delivered"


def test_a_definite_failure_fails_over_to_the_next_supplier_by_priority(uow, suppliers):
    a, b = _topup(uow, suppliers, "sup-a", "sup-b")
    a.submits.append(SupplierResult(SupplierOutcome.FAILED, message="account not found"))
    outcome = deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    assert outcome.status == "delivered"
    assert [s for _, s in _attempts(uow)] == ["failed", "success"]
    assert b.calls[0] == ("submit", f"{ORDER}-2")


def test_when_every_supplier_fails_the_order_fails_and_is_refundable(uow, suppliers, payments):
    a, b = _topup(uow, suppliers, "sup-a", "sup-b")
    a.submits.append(SupplierResult(SupplierOutcome.FAILED))
    b.submits.append(SupplierResult(SupplierOutcome.ACCEPTED))
    b.queries.append(SupplierResult(SupplierOutcome.FAILED, message="carrier down"))
    outcome = deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    assert outcome.status == "failed"
    run_due_work(
        uow=uow, actor=Actor.system("sweeper")
    )  # nothing left to try: no supplier is used twice
    assert len(_attempts(uow)) == 2
    refund = request_refund(
        uow=uow,
        order_no=ORDER,
        request_id="r-1",
        reason="failed",
        requested_by=Actor.system("bot"),
    )
    assert refund.status == "succeeded"
    assert payments.by_txn[f"T-{ORDER}"] == 98_50
    assert get_order(uow=uow, order_no=ORDER).status == "refunded"


def test_transient_query_errors_back_off_and_keep_the_order_open(uow, suppliers):
    (a,) = _topup(uow, suppliers, "sup-a")
    now = [datetime(2026, 11, 22, 12, 0, tzinfo=UTC)]
    uow.clock = lambda: now[0]
    uow.policy = replace(uow.policy, supplier_poll_seconds=5)
    a.queries.extend([SupplierResult(SupplierOutcome.UNKNOWN, message="502")] * 3)
    assert (
        deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test")).status == "in_progress"
    )  # accepted
    delays = []
    for _ in range(4):
        with uow:
            sorder = uow.session.scalars(select(SupplierOrder)).one()
            due = sorder.next_check_at
        delays.append((due - now[0]).total_seconds())
        now[0] = due
        run_due_work(uow=uow, actor=Actor.system("sweeper"))
    assert delays == [5, 5, 10, 20]  # poll, then exponential backoff after each 502
    assert get_order(uow=uow, order_no=ORDER).status == "delivered"
    assert [k for k, _ in a.calls].count("submit") == 1


def test_duplicate_callbacks_deliver_once_and_a_forged_one_is_refused(uow, suppliers):
    (a,) = _topup(uow, suppliers, "sup-a")
    a.queries.append(SupplierResult(SupplierOutcome.ACCEPTED))
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    params = {"order_id": f"{ORDER}-1", "status": "success", "sign": "good"}
    first = handle_supplier_callback(
        uow=uow, supplier_code="sup-a", params=params, actor=Actor.system("supplier:sup-a")
    )
    second = handle_supplier_callback(
        uow=uow, supplier_code="sup-a", params=params, actor=Actor.system("supplier:sup-a")
    )
    assert first.status == second.status == "delivered"
    view = get_order(uow=uow, order_no=ORDER)
    assert len(view.deliveries) == 1
    with pytest.raises(SignatureError):
        handle_supplier_callback(
            uow=uow,
            supplier_code="sup-a",
            params={**params, "sign": "forged"},
            actor=Actor.system("supplier:sup-a"),
        )


def test_a_crash_after_persisting_the_attempt_is_resumed_by_querying_first(uow, suppliers):
    (a,) = _topup(uow, suppliers, "sup-a")

    class Crash(Exception):
        pass

    def dying_submit(**_kwargs):
        a.received.add(f"{ORDER}-1")  # the request reached the supplier...
        raise Crash  # ...and then our process died before recording the answer

    a.submit_topup = dying_submit  # type: ignore[method-assign]
    with pytest.raises(Crash):
        deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    assert [s for _, s in _attempts(uow)] == ["submitting"]
    run_due_work(
        uow=uow, actor=Actor.system("sweeper")
    )  # a new process: the row says what is owed
    assert get_order(uow=uow, order_no=ORDER).status == "delivered"
    assert a.calls[0] == ("query", f"{ORDER}-1")
