"""Delivery benchmark: paid card-key orders delivered by concurrent workers.

Measures the fulfilment core itself (intake is done beforehand): each worker thread takes the
next order number and calls `deliver_order` in its own unit of work, as the job runner does.
Prints orders delivered per second and p50/p99 latency of one delivery, per database.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import create_engine, func, select, text

from fulfilment.actors import Actor
from fulfilment.keyvault import KeyVault
from fulfilment.models import CardKey, Delivery, KeyStatus
from fulfilment.services import catalog, orders
from fulfilment.services.delivery import deliver_order
from fulfilment.uow import UnitOfWork
from kamidesk.bootstrap import build
from kamidesk.db import upgrade
from kamidesk.settings import Settings

BENCH = Actor.system("bench")


@dataclass(frozen=True)
class BenchResult:
    backend: str
    orders: int
    workers: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def bench_delivery(url: str, backend: str, *, orders_n: int, workers: int) -> BenchResult:
    """Seed `orders_n` paid orders at `url` and deliver them with `workers` threads."""
    upgrade(url)
    # No job runner is started: events are written to the outbox (as in production) but their
    # dispatch is not part of what is measured.
    box = build(
        Settings(
            _env_file=None,
            demo_mode=True,
            database_url=url,
            key_encryption_key=SecretStr(KeyVault.generate_key()),
        )
    )
    uow = box.uow()
    catalog.create_product(
        uow=uow,
        sku="BENCH",
        name="bench",
        kind="card_key",
        face_value=Decimal("10"),
        price=Decimal("10.00"),
        currency="CNY",
        actor=BENCH,
    )
    catalog.import_keys(
        uow=uow,
        sku="BENCH",
        keys=[f"BENCH-{uuid.uuid4().hex}" for _ in range(orders_n)],
        actor=BENCH,
    )
    numbers = [f"BN{n:012d}" for n in range(orders_n)]
    for no in numbers:
        orders.ingest_order(
            uow=uow,
            data=orders.OrderInput(
                order_no=no,
                sku="BENCH",
                quantity=1,
                amount=Decimal("10.00"),
                currency="CNY",
                buyer_email="bench@example.com",
            ),
            paid=True,
            actor=BENCH,
        )
    latencies: list[float] = []

    def deliver(no: str) -> None:
        start = time.perf_counter()
        outcome = deliver_order(uow=box.uow(), order_no=no, actor=BENCH)
        latencies.append(time.perf_counter() - start)
        if outcome.status != "delivered":
            raise RuntimeError(f"{no}: {outcome.status}")

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(deliver, numbers))
    seconds = time.perf_counter() - began
    _verify(uow, orders_n)
    box.close()
    return BenchResult(
        backend,
        orders_n,
        workers,
        seconds,
        statistics.median(latencies) * 1000,
        _percentile(latencies, 0.99) * 1000,
    )


def _verify(uow: UnitOfWork, expected: int) -> None:
    with uow:
        keys = uow.session.scalar(
            select(func.count()).select_from(CardKey).where(CardKey.status == KeyStatus.DELIVERED)
        )
        distinct = uow.session.scalar(select(func.count(func.distinct(Delivery.card_key_id))))
    if keys != expected or distinct != expected:
        raise RuntimeError(f"integrity check failed: {keys} keys, {distinct} distinct")


def run_benchmarks(
    *, orders: int, workers: int, postgres_admin_url: str | None, echo: Callable[[str], None]
) -> list[BenchResult]:
    """Run on SQLite, then on a scratch PostgreSQL database; print a Markdown table."""
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="kamidesk-bench-"))
    try:
        results.append(
            bench_delivery(
                f"sqlite:///{tmp / 'bench.db'}", "SQLite", orders_n=orders, workers=workers
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if postgres_admin_url:
        results.append(_bench_postgres(postgres_admin_url, orders, workers))
    echo("| database | orders | workers | orders/s | p50 ms | p99 ms |")
    echo("|---|---:|---:|---:|---:|---:|")
    for r in results:
        echo(
            f"| {r.backend} | {r.orders} | {r.workers} | {r.per_second:.0f} | "
            f"{r.p50_ms:.1f} | {r.p99_ms:.1f} |"
        )
    return results


def _bench_postgres(admin_url: str, orders_n: int, workers: int) -> BenchResult:
    name = f"kamidesk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        return bench_delivery(url, "PostgreSQL", orders_n=orders_n, workers=workers)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
