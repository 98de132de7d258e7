"""The in-process runner (embedded default) with the real services on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from fulfilment.actors import Actor
from fulfilment.services import catalog
from fulfilment.services.queries import get_order
from tests.factories import card_product, paid_order, topup_product
from tests.integration.jobs.support import delivered_keys, units_by_order

pytestmark = pytest.mark.integration


async def wait_for_status(runtime, order_no: str, status: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await asyncio.to_thread(
            lambda: get_order(uow=runtime.uow(), order_no=order_no).status
        )
        if current == status:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{order_no} is still {current}"
        await asyncio.sleep(0.02)


async def test_a_paid_order_whose_trigger_was_lost_is_delivered_by_the_sweep(in_process):
    runtime = in_process()
    uow = runtime.uow()
    card_product(uow, keys=3)
    paid_order(uow, "KM1000000001", quantity=2)  # paid, but nobody triggered delivery
    jobs = runtime.jobs
    await jobs.start()
    try:
        await wait_for_status(runtime, "KM1000000001", "delivered")
    finally:
        await jobs.stop()
    assert [len(v) for v in units_by_order(uow, ["KM1000000001"]).values()] == [2]


async def test_an_order_waiting_for_stock_is_delivered_when_keys_arrive_and_it_is_triggered(
    in_process,
):
    runtime = in_process(sweep_interval=3600)  # only triggers, no sweep help
    uow = runtime.uow()
    card_product(uow, keys=0)
    paid_order(uow, "KM1000000002")
    jobs = runtime.jobs
    await jobs.start()
    try:
        await jobs.trigger_delivery("KM1000000002")
        await jobs.drain()
        assert get_order(uow=uow, order_no="KM1000000002").status == "delivering"
        catalog.import_keys(
            uow=uow, sku="STEAM-50", keys=["FRESH-0001-WXYZ"], actor=Actor.system("test")
        )
        await jobs.trigger_delivery("KM1000000002")
        await jobs.drain()
    finally:
        await jobs.stop()
    assert get_order(uow=uow, order_no="KM1000000002").status == "delivered"


async def test_many_concurrent_duplicate_triggers_hand_out_one_key_per_unit(in_process):
    runtime = in_process(max_workers=6, sweep_interval=0.02)
    uow = runtime.uow()
    card_product(uow, keys=12)
    orders = [f"KM20000000{n:02d}" for n in range(6)]
    for order_no in orders:
        paid_order(uow, order_no, quantity=2)
    jobs = runtime.jobs
    await jobs.start()
    try:
        for _ in range(4):
            await asyncio.gather(*(jobs.trigger_delivery(no) for no in orders))
        for order_no in orders:
            await wait_for_status(runtime, order_no, "delivered")
        await jobs.drain()
    finally:
        await jobs.stop()
    units = units_by_order(uow, orders)
    assert all(len(keys) == 2 for keys in units.values())
    handed_out = [key for keys in units.values() for key in keys]
    assert len(set(handed_out)) == 12
    assert delivered_keys(uow) == 12


async def test_a_top_up_whose_job_crashed_mid_call_is_resumed_by_the_sweep(
    in_process, suppliers, caplog
):
    supplier = suppliers.add("sup-a")
    runtime = in_process(sweep_interval=0.05)
    uow = runtime.uow()
    topup_product(uow, suppliers=("sup-a",))
    paid_order(uow, "DJ3000000000001", sku="CM-100", price="98.50", account="13800138000")
    real_submit = supplier.submit_topup
    crashes = []

    def dying_submit(**kwargs):  # type: ignore[no-untyped-def]
        if not crashes:
            crashes.append(kwargs["request_ref"])
            supplier.received.add(kwargs["request_ref"])  # it reached the supplier...
            raise ConnectionResetError("account 13800138000")  # ...and the answer was lost
        return real_submit(**kwargs)

    supplier.submit_topup = dying_submit  # type: ignore[method-assign]
    jobs = runtime.jobs
    await jobs.start()
    try:
        await jobs.trigger_delivery("DJ3000000000001")
        await wait_for_status(runtime, "DJ3000000000001", "delivered")
    finally:
        await jobs.stop()
    assert "ConnectionResetError" in caplog.text
    assert "13800138000" not in caplog.text  # the failure is logged without its message
    # Resumed by asking the supplier first: one submit in all, never a second top-up.
    submits = crashes + [ref for kind, ref in supplier.calls if kind == "submit"]
    assert submits == ["DJ3000000000001-1"]
    assert supplier.calls[0] == ("query", "DJ3000000000001-1")
