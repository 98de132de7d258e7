"""arq on a real Redis: the production worker's jobs and sweep, run in-process in burst mode."""

from __future__ import annotations

import uuid

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.models import Refund
from fulfilment.ports import RefundOutcome, RefundResult
from fulfilment.services.queries import get_order
from fulfilment.services.refunds import request_refund
from kamidesk.jobs import ArqJobs
from kamidesk.worker import health_check_key, sweep, worker_alive
from tests.conftest import REDIS_URL
from tests.factories import card_product, paid_order, topup_product
from tests.integration.jobs.support import (
    delivered_keys,
    make_worker,
    run_burst,
    units_by_order,
)

pytestmark = [pytest.mark.integration, pytest.mark.redis]


def sweep_ctx(pool, runtime) -> dict:  # type: ignore[no-untyped-def]
    return {"redis": pool, "container": runtime}


async def test_a_paid_order_only_in_the_database_is_delivered_after_the_sweep(arq_pool, runtime):
    uow = runtime.uow()
    card_product(uow, keys=2)
    paid_order(uow, "KM4000000001")  # the trigger was lost: only the row knows
    assert await sweep(sweep_ctx(arq_pool, runtime)) == 1
    assert await sweep(sweep_ctx(arq_pool, runtime)) == 0  # already queued: not twice
    await run_burst(make_worker(arq_pool, runtime))
    assert get_order(uow=uow, order_no="KM4000000001").status == "delivered"
    assert await arq_pool.zcard(arq_pool.default_queue_name) == 0


async def test_duplicate_triggers_queue_one_job_and_a_later_trigger_queues_again(
    arq_pool, runtime
):
    uow = runtime.uow()
    card_product(uow, keys=2)
    paid_order(uow, "KM4000000002")
    jobs = ArqJobs(RedisSettings(), queue_name=arq_pool.default_queue_name, pool=arq_pool)
    await jobs.start()
    for _ in range(3):
        await jobs.trigger_delivery("KM4000000002")
    assert await arq_pool.zcard(arq_pool.default_queue_name) == 1
    await run_burst(make_worker(arq_pool, runtime))
    # No result is kept, so a finished job does not swallow the next trigger for the order.
    await jobs.trigger_delivery("KM4000000002")
    assert await arq_pool.zcard(arq_pool.default_queue_name) == 1
    await run_burst(make_worker(arq_pool, runtime))
    assert delivered_keys(uow) == 1


async def test_a_trigger_while_the_order_is_being_processed_queues_one_follow_up(arq_pool):
    queue = arq_pool.default_queue_name
    jobs = ArqJobs(RedisSettings(), queue_name=queue, pool=arq_pool)
    await jobs.start()
    await jobs.trigger_delivery("KM4000000003")
    # A worker has picked the job up (arq marks it in progress) ...
    await arq_pool.set(f"arq:in-progress:{queue}:deliver:KM4000000003", b"1")
    # ... so new triggers (say, keys were just imported) need exactly one more pass.
    for _ in range(3):
        await jobs.trigger_delivery("KM4000000003")
    queued = await arq_pool.zrange(queue, 0, -1)
    assert sorted(queued) == [
        f"{queue}:deliver:KM4000000003".encode(),
        f"{queue}:deliver:KM4000000003:again".encode(),
    ]


async def test_two_workers_racing_on_duplicate_jobs_deliver_exactly_one_key_per_unit(
    arq_pool, runtime
):
    uow = runtime.uow()
    card_product(uow, keys=20)
    orders = [f"KM50000000{n:02d}" for n in range(8)]
    for order_no in orders:
        paid_order(uow, order_no, quantity=2)
    jobs = ArqJobs(RedisSettings(), queue_name=arq_pool.default_queue_name, pool=arq_pool)
    await jobs.start()
    for order_no in orders:
        await jobs.trigger_delivery(order_no)
        # Duplicates that job-id dedupe cannot catch (e.g. a second payment callback that
        # arrives with another id): both workers may run the same order at the same time.
        for _ in range(2):
            await arq_pool.enqueue_job("deliver_order", order_no, _job_id=uuid.uuid4().hex)
    assert await arq_pool.zcard(arq_pool.default_queue_name) == 24
    other = await create_pool(
        RedisSettings.from_dsn(REDIS_URL), default_queue_name=arq_pool.default_queue_name
    )
    try:
        first, second = make_worker(arq_pool, runtime), make_worker(other, runtime)
        await run_burst(first, second)
    finally:
        await other.aclose()
    assert first.jobs_complete + second.jobs_complete == 24
    assert first.jobs_failed + second.jobs_failed == 0
    units = units_by_order(uow, orders)
    assert all(len(keys) == 2 for keys in units.values()), units
    assert len({key for keys in units.values() for key in keys}) == 16
    assert delivered_keys(uow) == 16


async def test_a_job_that_crashed_mid_way_is_resumed_by_the_next_sweep(
    arq_pool, runtime, suppliers, caplog
):
    supplier = suppliers.add("sup-a")
    uow = runtime.uow()
    topup_product(uow, suppliers=("sup-a",))
    paid_order(uow, "DJ6000000000001", sku="CM-100", price="98.50", account="13900139000")
    real_submit = supplier.submit_topup

    def dying_submit(**kwargs):  # type: ignore[no-untyped-def]
        supplier.submit_topup = real_submit  # type: ignore[method-assign]
        supplier.received.add(kwargs["request_ref"])
        raise ConnectionResetError("account 13900139000")

    supplier.submit_topup = dying_submit  # type: ignore[method-assign]
    jobs = ArqJobs(RedisSettings(), queue_name=arq_pool.default_queue_name, pool=arq_pool)
    await jobs.start()
    await jobs.trigger_delivery("DJ6000000000001")
    crashed = make_worker(arq_pool, runtime)
    await run_burst(crashed)
    assert crashed.jobs_failed == 1
    assert get_order(uow=uow, order_no="DJ6000000000001").status == "delivering"
    assert await sweep(sweep_ctx(arq_pool, runtime)) == 1
    resumed = make_worker(arq_pool, runtime)
    await run_burst(resumed)
    assert resumed.jobs_complete == 1
    assert get_order(uow=uow, order_no="DJ6000000000001").status == "delivered"
    assert ("submit", "DJ6000000000001-1") not in supplier.calls  # queried, not resubmitted
    assert "JobFailed" in caplog.text
    assert "13900139000" not in caplog.text


async def test_a_refund_whose_provider_call_crashed_is_pushed_again_by_the_sweep(
    arq_pool, runtime, payments
):
    uow = runtime.uow()
    card_product(uow, keys=0)
    paid_order(uow, "KM7000000001")  # paid, waiting for stock: refundable in full

    real_refund = payments.refund

    def dying_refund(**kwargs):  # type: ignore[no-untyped-def]
        payments.refund = real_refund  # type: ignore[method-assign]
        raise TimeoutError("provider did not answer")

    payments.refund = dying_refund  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        request_refund(
            uow=uow,
            order_no="KM7000000001",
            request_id="rf-1",
            reason="customer asked",
            requested_by=Actor.system("test"),
        )
    await sweep(sweep_ctx(arq_pool, runtime))
    await run_burst(make_worker(arq_pool, runtime))
    with uow:
        refund = uow.session.scalars(select(Refund)).one()
        status = refund.status
    assert status == "succeeded"
    assert payments.refunds == {"rf-1": 5000}
    assert get_order(uow=uow, order_no="KM7000000001").status == "refunded"


async def test_a_refund_backing_off_after_an_unknown_answer_is_not_swept_early(
    arq_pool, runtime, payments
):
    uow = runtime.uow()
    card_product(uow, keys=0)
    paid_order(uow, "KM7000000002")
    payments.refund_answers.append(RefundResult(RefundOutcome.UNKNOWN, None, "busy"))
    result = request_refund(
        uow=uow,
        order_no="KM7000000002",
        request_id="rf-2",
        reason="x",
        requested_by=Actor.system("test"),
    )
    assert result.status == "processing"
    # Not due yet (retry backoff): the sweep leaves it alone until its time comes.
    assert await sweep(sweep_ctx(arq_pool, runtime)) == 0


async def test_a_running_worker_records_a_heartbeat_its_health_check_can_see(arq_pool, runtime):
    key = health_check_key(arq_pool.default_queue_name, host="test-host")
    settings = RedisSettings.from_dsn(REDIS_URL)
    assert not await worker_alive(settings, key)
    await run_burst(make_worker(arq_pool, runtime, health_check_key=key))
    assert await worker_alive(settings, key)


async def test_a_reissue_left_checking_is_finished_by_the_arq_sweep(arq_pool, runtime, suppliers):
    from datetime import timedelta

    from fulfilment.models import ReissueRequest
    from fulfilment.ports import KeyCheckResult, KeyCheckStatus
    from fulfilment.services.delivery import deliver_order
    from fulfilment.services.reissue import reissue_key

    supplier = suppliers.add("sup-a")
    uow = runtime.uow()
    card_product(uow, keys=3)
    paid_order(uow, "KM7000000009")
    deliver_order(uow=uow, order_no="KM7000000009", actor=Actor.system("test"))
    supplier.default_check = KeyCheckResult(KeyCheckStatus.UNKNOWN, message="timeout")
    first = reissue_key(
        uow=uow,
        order_no="KM7000000009",
        request_id="rq-arq",
        reason="x",
        requested_by=Actor.system("bot"),
    )
    assert first.status == "check_unavailable"
    supplier.default_check = KeyCheckResult(KeyCheckStatus.INVALID)
    with uow:  # the retry is due now
        request = uow.session.scalars(select(ReissueRequest)).one()
        request.next_attempt_at = request.created_at - timedelta(seconds=1)
        uow.commit()
    assert await sweep(sweep_ctx(arq_pool, runtime)) == 1
    await run_burst(make_worker(arq_pool, runtime))
    with uow:
        status = uow.session.scalars(select(ReissueRequest.status)).one()
    assert status == "reissued"


async def test_events_left_behind_by_a_crash_are_dispatched_through_arq_and_deliver_the_order(
    arq_pool, arq_runtime
):
    from datetime import timedelta

    from fulfilment.models import Alert, OutboxEntry, Product, utcnow

    uow = arq_runtime.uow()
    card_product(uow, keys=2, safety_stock=2)
    paid_order(uow, "KM7000000010")  # committed, then the process died: no dispatch, no trigger
    with uow:
        fresh = len(uow.session.scalars(select(OutboxEntry.id)).all())
    ctx = sweep_ctx(arq_pool, arq_runtime)
    assert await sweep(ctx) == 1  # the paid order; its events are too fresh for the sweep
    arq_runtime.bus.clock = lambda: utcnow() + timedelta(minutes=1)
    assert await sweep(ctx) == fresh  # now every undispatched event is due
    worker = make_worker(arq_pool, arq_runtime)
    await run_burst(worker)
    assert worker.jobs_failed == 0
    assert get_order(uow=uow, order_no="KM7000000010").status == "delivered"
    with uow:
        undispatched = uow.session.scalars(
            select(OutboxEntry.name).where(OutboxEntry.dispatched_at.is_(None))
        ).all()
        paid = uow.session.scalars(
            select(OutboxEntry.handled).where(OutboxEntry.name == "OrderPaid")
        ).one()
        product = uow.session.scalars(select(Product)).one()
        alerts = uow.session.scalars(select(Alert.kind)).all()
    # OrderPaid -> delivery job -> KeyDelivered, StockLow -> pause -> ProductPaused -> alert:
    # every step went through Redis, and every event was handled.
    assert undispatched == []
    assert paid == ["fulfilment.trigger_delivery"]
    assert (product.status, alerts) == ("paused", ["low_stock"])
    assert await arq_pool.zcard(arq_pool.default_queue_name) == 0
