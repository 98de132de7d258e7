"""Concurrent workers and duplicate triggers: no key twice, no order lost.

These run on both databases; on PostgreSQL the workers really overlap (row locks and
SKIP LOCKED), on SQLite writers are serialised by BEGIN IMMEDIATE.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from fulfilment.actors import Actor
from fulfilment.models import AuditEntry, CardKey, Delivery, KeyStatus, Order, SupplierClaim
from fulfilment.ports import KeyCheckResult, KeyCheckStatus
from fulfilment.services.delivery import deliver_order
from fulfilment.services.reissue import reissue_key
from tests.factories import card_product, paid_order

WORKERS = 16


def _run_all(jobs):
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [f.result() for f in [pool.submit(job) for job in jobs]]


def test_fifty_concurrent_deliveries_never_hand_out_a_key_twice(uow, suppliers):
    suppliers.add("sup-a")
    card_product(uow, keys=60)
    order_nos = [f"KM{n:013d}" for n in range(50)]
    for no in order_nos:
        paid_order(uow, no)
    # Every order is triggered twice (duplicate payment callbacks / two workers).
    jobs = [
        lambda no=no: deliver_order(uow=uow.fork(), order_no=no, actor=Actor.system("test"))
        for no in order_nos * 2
    ]
    outcomes = _run_all(jobs)
    assert {o.status for o in outcomes} == {"delivered"}
    with uow:
        per_key = uow.session.execute(
            select(Delivery.card_key_id, func.count()).group_by(Delivery.card_key_id)
        ).all()
        delivered = uow.session.scalar(
            select(func.count()).select_from(CardKey).where(CardKey.status == KeyStatus.DELIVERED)
        )
        per_order = uow.session.execute(
            select(Delivery.order_id, func.count()).group_by(Delivery.order_id)
        ).all()
    assert len(per_key) == 50 and all(n == 1 for _, n in per_key)
    assert delivered == 50
    assert len(per_order) == 50 and all(n == 1 for _, n in per_order)


def test_more_orders_than_keys_deliver_every_key_once_and_the_rest_wait(uow, suppliers):
    suppliers.add("sup-a")
    card_product(uow, keys=20)
    order_nos = [f"KM{n:013d}" for n in range(30)]
    for no in order_nos:
        paid_order(uow, no)
    outcomes = _run_all(
        [
            lambda no=no: deliver_order(uow=uow.fork(), order_no=no, actor=Actor.system("test"))
            for no in order_nos
        ]
    )
    statuses = sorted(o.status for o in outcomes)
    assert statuses.count("delivered") == 20 and statuses.count("waiting_stock") == 10
    with uow:
        waiting = uow.session.scalar(
            select(func.count()).select_from(Order).where(Order.status == "delivering")
        )
    assert waiting == 10


def test_concurrent_duplicate_intake_creates_one_order(uow, suppliers):
    suppliers.add("sup-a")
    card_product(uow, keys=1)
    results = _run_all([lambda: paid_order(uow.fork(), "KM2026112200001")] * 10)
    assert sum(r.created for r in results) == 1
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(Order)) == 1


def test_concurrent_reissues_of_one_key_replace_it_once(uow, suppliers):
    supplier = suppliers.add("sup-a")
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    card_product(uow, keys=10)
    paid_order(uow, "KM2026112200002")
    deliver_order(uow=uow, order_no="KM2026112200002", actor=Actor.system("test"))
    outcomes = _run_all(
        [
            lambda n=n: reissue_key(
                uow=uow.fork(),
                order_no="KM2026112200002",
                request_id=f"req-{n}",
                reason="bad",
                requested_by=Actor.system("bot"),
            )
            for n in range(8)
        ]
    )
    reissued = sum(o.status == "reissued" for o in outcomes)
    # Each request sees the key that is active when it is opened; every key is "invalid" here,
    # so later requests may replace the replacement — but never past the per-order limit.
    assert 1 <= reissued <= uow.policy.reissue_max_per_order
    with uow:
        invalid = uow.session.scalar(
            select(func.count()).select_from(CardKey).where(CardKey.status == KeyStatus.INVALID)
        )
        claims = uow.session.scalar(select(func.count()).select_from(SupplierClaim))
        active = uow.session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "active")
        )
    assert invalid == claims == reissued
    assert active == 1


def test_concurrent_deliveries_crossing_the_safety_stock_raise_one_alert(uow, suppliers):
    from fulfilment.models import Alert

    suppliers.add("sup-a")
    card_product(uow, keys=30, safety_stock=25)
    order_nos = [f"KM{n:013d}" for n in range(20)]
    for no in order_nos:
        paid_order(uow, no)
    _run_all(
        [
            lambda no=no: deliver_order(uow=uow.fork(), order_no=no, actor=Actor.system("test"))
            for no in order_nos
        ]
    )
    with uow:
        alerts = uow.session.scalars(select(Alert.kind).where(Alert.kind == "low_stock")).all()
        paused = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "product.paused")
        ).all()
    assert alerts == ["low_stock"]
    assert len(paused) == 1


def test_concurrent_reissues_on_one_customers_orders_respect_the_customer_limit(uow, suppliers):
    from dataclasses import replace

    supplier = suppliers.add("sup-a")
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    card_product(uow, keys=20)
    uow.policy = replace(uow.policy, reissue_max_per_customer=2)
    order_nos = [f"KM{n:013d}" for n in range(6)]
    for no in order_nos:
        paid_order(uow, no)  # all with the same buyer email
        deliver_order(uow=uow, order_no=no, actor=Actor.system("test"))
    outcomes = _run_all(
        [
            lambda no=no: reissue_key(
                uow=uow.fork(),
                order_no=no,
                request_id=f"rq-{no}",
                reason="bad",
                requested_by=Actor.system("bot"),
            )
            for no in order_nos
        ]
    )
    assert sum(o.status == "reissued" for o in outcomes) == 2
    assert sum(o.code == "limit_customer" for o in outcomes) == 4
