"""Helpers for the job-runner integration tests: in-process arq workers, delivery counts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from arq.connections import ArqRedis
from arq.worker import Worker
from sqlalchemy import func, select

from fulfilment.models import CardKey, Delivery, DeliveryStatus, KeyStatus, Order
from fulfilment.uow import UnitOfWork
from kamidesk.bootstrap import Container
from kamidesk.worker import WorkerSettings, on_shutdown, on_startup


def make_worker(pool: ArqRedis, runtime: Container, **overrides: Any) -> Worker:
    """An in-process arq worker in burst mode, with the production functions and settings."""
    options: dict[str, Any] = dict(
        functions=WorkerSettings.functions,
        queue_name=pool.default_queue_name,
        redis_pool=pool,
        burst=True,
        handle_signals=False,
        keep_result=WorkerSettings.keep_result,
        job_timeout=WorkerSettings.job_timeout,
        poll_delay=0.05,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        ctx={"container": runtime},
    )
    options.update(overrides)
    return Worker(**options)


async def run_burst(*workers: Worker) -> None:
    """Run the workers side by side until the queue is empty."""
    await asyncio.gather(*(w.async_run() for w in workers))
    for w in workers:
        await on_shutdown(w.ctx)


def units_by_order(uow: UnitOfWork, order_nos: Iterable[str]) -> dict[str, list[int]]:
    """Active deliveries per order: the card-key ids handed out, one per unit."""
    with uow:
        rows = uow.session.execute(
            select(Order.order_no, Delivery.card_key_id)
            .join(Delivery, Delivery.order_id == Order.id)
            .where(Order.order_no.in_(list(order_nos)), Delivery.status == DeliveryStatus.ACTIVE)
        ).all()
    found: dict[str, list[int]] = {no: [] for no in order_nos}
    for order_no, key_id in rows:
        found[order_no].append(key_id)
    return found


def delivered_keys(uow: UnitOfWork) -> int:
    """How many card keys are marked delivered."""
    with uow:
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(CardKey)
                .where(CardKey.status == KeyStatus.DELIVERED)
            )
            or 0
        )
