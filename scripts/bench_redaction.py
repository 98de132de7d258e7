"""How long `fulfilment.redaction.redact_keys` takes on a reason and on a chat transcript.

    python scripts/bench_redaction.py [--keys 10000] [--rounds 50] [--postgres ADMIN_URL]

Fills a scratch database (SQLite in a temporary directory; PostgreSQL too with `--postgres`,
a database created and dropped on that server) with `--keys` random card keys, then masks a
500-character reason and a 10 KB mixed zh/en transcript, each with one stored key in it, and
prints README-ready Markdown (median and p95 per call).
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from fulfilment.keyvault import KeyVault
from fulfilment.redaction import redact_keys
from fulfilment.services import catalog
from fulfilment.uow import UnitOfWork
from kamidesk.db import make_engine, make_session_factory, upgrade

WORDS = (  # noqa: SIM905 (one readable sentence)
    "hello my key does not work please check order KM2026112200017 我的卡密用不了 谢谢 "
    "it says already redeemed 已经被使用 can you send a new one 13800138000 thanks"
).split()


def texts(key: str) -> dict[str, str]:
    rng = random.Random(7)
    body = " ".join(rng.choice(WORDS) for _ in range(2000))
    return {
        "reason (500 chars)": f"customer pasted {key}; " + body[:470],
        "transcript (10 KB)": (body[:5000] + f" {key} " + body)[:10_000],
    }


def bench(url: str, label: str, keys_n: int, rounds: int, echo=print) -> None:  # type: ignore[no-untyped-def]
    upgrade(url)
    engine = make_engine(url)
    vault = KeyVault(KeyVault.generate_key())
    uow = UnitOfWork(make_session_factory(engine), vault=vault)
    catalog.create_product(
        uow=uow,
        sku="BENCH",
        name="bench",
        kind="card_key",
        face_value=Decimal(1),
        price=Decimal(1),
        currency="CNY",
        actor="bench",
    )
    rng = random.Random(1)
    keys = [
        "".join(rng.choices(string.ascii_uppercase + string.digits, k=16)) for _ in range(keys_n)
    ]
    for start in range(0, keys_n, 5000):
        catalog.import_keys(uow=uow, sku="BENCH", keys=keys[start : start + 5000], actor="bench")
    for name, value in texts(keys[keys_n // 2]).items():
        times = []
        with uow:
            for _ in range(rounds + 3):
                started = time.perf_counter()
                masked = redact_keys(uow.session, vault, value)
                times.append((time.perf_counter() - started) * 1000)
        assert keys[keys_n // 2] not in masked
        times = sorted(times[3:])
        p95 = times[int(len(times) * 0.95) - 1]
        echo(f"| {label} | {name} | {keys_n} | {statistics.median(times):.1f} | {p95:.1f} |")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print("| database | text | keys in stock | median ms | p95 ms |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{tmp}/bench.db", "SQLite", args.keys, args.rounds)
    if args.postgres:
        name = f"kamidesk_redact_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
            bench(url, "PostgreSQL", args.keys, args.rounds)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
