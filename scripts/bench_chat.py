"""Load benchmark of the web chat: N concurrent conversations through the HTTP API.

    python scripts/bench_chat.py --db sqlite                 # embedded default (in-process state)
    python scripts/bench_chat.py --db postgres --redis       # production parts
    python scripts/bench_chat.py --db postgres --redis --conversations 100 --rounds 3

It seeds a scratch database with one delivered card-key order per conversation, starts
`kamidesk serve` as a separate process (one uvicorn worker), and drives it from this process with
asyncio + httpx: every conversation says hello, asks for its order, proves it with its email (the
key is revealed: ownership check, decryption, audit), asks a knowledge-base question and says
thanks, `--rounds` times. Each message is timed from request to reply.

In the same run it measures the ceiling: the cheapest endpoint of the same server process
(`GET /healthz`) at the same concurrency, and prints the ratio. It also reads the server's and
the client's CPU time from /proc, which says what limits the figures on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("KAMIDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("KAMIDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seed(url: str, key: str, conversations: int) -> list[tuple[str, str]]:
    """One delivered order per conversation; returns (order_no, email) pairs."""
    from pydantic import SecretStr

    from fulfilment.services import catalog, orders
    from fulfilment.services.delivery import deliver_order
    from fulfilment.services.orders import OrderInput
    from kamidesk.bootstrap import build
    from kamidesk.db import upgrade
    from kamidesk.settings import Settings

    upgrade(url)
    box = build(Settings(demo_mode=True, database_url=url, key_encryption_key=SecretStr(key)))
    actor = "bench"
    try:
        uow = box.uow()
        catalog.create_product(
            uow=uow,
            sku="BENCH-50",
            name="Bench card 50",
            kind="card_key",
            face_value=Decimal("50"),
            price=Decimal("50.00"),
            currency="CNY",
            actor=actor,
        )
        catalog.import_keys(
            uow=uow,
            sku="BENCH-50",
            keys=[f"BENCH-{i:06d}-{secrets.token_hex(4)}" for i in range(conversations)],
            actor=actor,
        )
        pairs = []
        for i in range(conversations):
            order_no, email = f"KM{2026120100000 + i}", f"bench{i}@example.com"
            orders.ingest_order(
                uow=uow,
                data=OrderInput(order_no, "BENCH-50", 1, Decimal("50.00"), "CNY", email),
                paid=True,
                actor=actor,
            )
            deliver_order(uow=uow, order_no=order_no, actor=actor)
            pairs.append((order_no, email))
        return pairs
    finally:
        box.close()


def script(order_no: str, email: str) -> list[str]:
    return [
        "hi",
        f"where is my order {order_no}",
        email,
        "how do I redeem a steam wallet code?",
        "thanks",
    ]


async def converse(
    client: httpx.AsyncClient, order_no: str, email: str, rounds: int, latencies: list[float]
) -> int:
    created = await client.post("/api/v1/chat/conversations", json={"user": {"language": "en"}})
    created.raise_for_status()
    cid = created.json()["conversation_id"]
    errors = 0
    for _ in range(rounds):
        for text in script(order_no, email):
            start = time.perf_counter()
            response = await client.post(
                "/api/v1/chat/messages", json={"conversation_id": cid, "text": text}
            )
            latencies.append(time.perf_counter() - start)
            errors += response.status_code != 200
    return errors


async def hammer(client: httpx.AsyncClient, requests: int, latencies: list[float]) -> int:
    errors = 0
    for _ in range(requests):
        start = time.perf_counter()
        response = await client.get("/healthz")
        latencies.append(time.perf_counter() - start)
        errors += response.status_code != 200
    return errors


async def run_load(base: str, pairs: list[tuple[str, str]], rounds: int, server_pid: int):
    limits = httpx.Limits(max_connections=len(pairs), max_keepalive_connections=len(pairs))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        # Warm-up: the knowledge base and NLU load their models on first use.
        await converse(client, *pairs[0], 1, [])
        chat: list[float] = []
        cpu0, own0, t0 = cpu_seconds(server_pid), time.process_time(), time.perf_counter()
        errors = sum(
            await asyncio.gather(*(converse(client, no, em, rounds, chat) for no, em in pairs))
        )
        elapsed = time.perf_counter() - t0
        server_cpu, client_cpu = cpu_seconds(server_pid) - cpu0, time.process_time() - own0
        ceiling: list[float] = []
        per_task = max(1, len(chat) // len(pairs))
        t1 = time.perf_counter()
        errors += sum(await asyncio.gather(*(hammer(client, per_task, ceiling) for _ in pairs)))
        ceiling_elapsed = time.perf_counter() - t1
    return chat, elapsed, server_cpu, client_cpu, ceiling, ceiling_elapsed, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--redis", action="store_true", help="state and limits in Redis")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from cryptography.fernet import Fernet
    from sqlalchemy import create_engine, text

    key = Fernet.generate_key().decode()
    tmp = Path(tempfile.mkdtemp(prefix="kamidesk-bench-chat-"))
    admin = None
    if args.db == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        name = f"kamidesk_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    server = None
    try:
        pairs = seed(url, key, args.conversations)
        port = free_port()
        env = {
            **os.environ,
            "DEMO_MODE": "1",
            "DATABASE_URL": url,
            "KEY_ENCRYPTION_KEY": key,
            "CHAT_CONVERSATIONS_PER_IP": "1000000/minute",
            "CHAT_MESSAGES_PER_CONVERSATION": "1000000/minute",
        }
        env.pop("REDIS_URL", None)
        if args.redis:
            env["REDIS_URL"] = REDIS
        server = subprocess.Popen(
            [sys.executable, "-m", "kamidesk.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise SystemExit(server.stderr.read().decode() if server.stderr else "died")
            time.sleep(0.1)
        chat, elapsed, server_cpu, client_cpu, ceiling, ceiling_elapsed, errors = asyncio.run(
            run_load(base, pairs, args.rounds, server.pid)
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)

    rate = len(chat) / elapsed
    ceiling_rate = len(ceiling) / ceiling_elapsed
    label = f"{args.db}{' + redis' if args.redis else ''}"
    print(
        f"web chat, {label}: {args.conversations} concurrent conversations x {args.rounds} "
        f"rounds x 5 messages = {len(chat)} messages, {errors} errors"
    )
    print(f"  messages/s          {rate:8.1f}")
    print(
        f"  reply p50 / p99 ms  {1000 * statistics.median(chat):8.1f} / "
        f"{1000 * percentile(chat, 0.99):.1f}"
    )
    print(
        f"  ceiling GET /healthz {ceiling_rate:7.1f} req/s (p50 "
        f"{1000 * statistics.median(ceiling):.1f} ms); chat reaches "
        f"{100 * rate / ceiling_rate:.0f}% of it"
    )
    print(
        f"  CPU during the chat run: server {100 * server_cpu / elapsed:.0f}% of a core, "
        f"load client {100 * client_cpu / elapsed:.0f}% ({os.cpu_count()} cores)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
