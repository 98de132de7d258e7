"""Operations commands: demo, serve, worker, db upgrade, keys import, bench."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

CHUNK = 1000


def register(app: typer.Typer) -> None:
    """Attach the operations commands to the top-level app."""
    db = typer.Typer(no_args_is_help=True, help="Database")
    keys = typer.Typer(no_args_is_help=True, help="Card-key inventory")
    app.add_typer(db, name="db")
    app.add_typer(keys, name="keys")
    db.command("upgrade")(db_upgrade)
    keys.command("import")(keys_import)
    app.command("demo")(demo)
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("bench")(bench)
    app.command("chat")(chat)


def chat(
    url: str = typer.Option("http://127.0.0.1:8000", help="a running kamidesk (make demo)"),
    language: str | None = typer.Option(None, help="zh-CN, zh-TW or en (default: detected)"),
    name: str | None = typer.Option(None, help="your name, as the bot greets you"),
) -> None:
    """Talk to the chatbot in this terminal (the same engine as the web chat and Telegram)."""
    from bot.channels.terminal import run

    raise typer.Exit(run(url, language=language, name=name))


def db_upgrade() -> None:
    """Apply every pending migration to DATABASE_URL."""
    from kamidesk.db import upgrade
    from kamidesk.settings import get_settings

    upgrade(get_settings().database_url)
    typer.echo("database is up to date")


def keys_import(
    sku: str = typer.Argument(..., help="product the keys belong to"),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="UTF-8 text file, one key per line"
    ),
    supplier: str | None = typer.Option(None, help="supplier code the keys came from"),
    batch: str | None = typer.Option(None, help="batch label"),
) -> None:
    """Import card keys from a file (encrypted at rest, duplicates skipped), in batches of
    1,000 keys, each its own transaction: any size of file, and repeating it is harmless."""
    from rich.progress import Progress

    from fulfilment.actors import Actor
    from fulfilment.errors import FulfilmentError
    from fulfilment.services import catalog
    from kamidesk.bootstrap import build
    from kamidesk.settings import get_settings

    try:
        lines = [line.strip() for line in file.read_text("utf-8-sig").splitlines()]
    except UnicodeDecodeError as exc:
        raise typer.BadParameter("the key file must be UTF-8 text") from exc
    lines = [line for line in lines if line]
    box = build(get_settings())
    totals = {"imported": 0, "duplicates": 0, "rejected": 0}
    try:
        with Progress() as progress:
            task = progress.add_task(f"importing into {sku}", total=len(lines))
            for start in range(0, len(lines), CHUNK):
                chunk = lines[start : start + CHUNK]
                result = catalog.import_keys(
                    uow=box.uow(),
                    sku=sku,
                    keys=chunk,
                    actor=Actor.system("cli"),
                    supplier_code=supplier,
                    batch=batch,
                )
                for name in totals:
                    totals[name] += getattr(result, name)
                progress.advance(task, len(chunk))
    except FulfilmentError as exc:
        typer.secho(f"error: {exc.message}", fg="red", err=True)
        if totals["imported"]:
            typer.secho(
                f"{totals['imported']} keys of earlier batches were imported; running the "
                "import again skips them as duplicates",
                err=True,
            )
        raise typer.Exit(2) from exc
    finally:
        box.close()
    typer.echo(
        f"imported {totals['imported']}, duplicates {totals['duplicates']}, "
        f"rejected {totals['rejected']}, stock now {result.stock}"
    )


def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000)) -> None:
    """Run the HTTP API (migrations are applied first)."""
    import uvicorn

    from kamidesk.app import create_app
    from kamidesk.db import upgrade
    from kamidesk.observability import configure_logging
    from kamidesk.settings import get_settings

    settings = get_settings()
    settings.check_production_ready()
    configure_logging(settings)
    upgrade(settings.database_url)
    # log_config=None: uvicorn keeps the logging set up above (JSON lines by default).
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_config=None)


def worker() -> None:
    """Run an arq worker for background jobs (needs REDIS_URL)."""
    from kamidesk.worker import run_worker

    run_worker()


def demo(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, min=1, max=65535, envvar="DEMO_PORT"),
    var: Path = typer.Option(Path("var"), help="where the demo keeps its database and secrets"),
    seed_only: bool = typer.Option(False, help="seed, print, and exit instead of serving"),
    supplier_port: int = typer.Option(
        8001, min=0, max=65535, envvar="DEMO_SUPPLIER_PORT", help="supplier simulator (0: any)"
    ),
    payment_port: int = typer.Option(
        8002, min=0, max=65535, envvar="DEMO_PAYMENT_PORT", help="payment sandbox (0: any)"
    ),
) -> None:
    """A whole demo shop on SQLite with the supplier simulator and payment sandbox."""
    from kamidesk.app import create_app
    from kamidesk.bootstrap import build
    from kamidesk.db import upgrade
    from kamidesk.demo import PAYMENT_MERCHANT, demo_settings, with_simulated_suppliers
    from kamidesk.observability import configure_logging
    from simulators.launcher import start_simulators
    from simulators.server import ServerStartError, run_in_thread

    _require_free_ports(
        host,
        [
            ("kamidesk", "--port", port),
            ("the supplier simulator", "--supplier-port", supplier_port),
            ("the payment sandbox", "--payment-port", payment_port),
        ],
    )
    settings = demo_settings(var, host=host, port=port)
    configure_logging(settings, fmt="console")  # the demo is read by people
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a fresh database every start
    for stale in var.glob("demo.db*"):
        stale.unlink()  # every demo starts from the same seeded shop
    try:
        sims = start_simulators(
            payment_merchants={PAYMENT_MERCHANT: settings.payment_secret.get_secret_value()},
            host=host,
            supplier_port=supplier_port,
            payment_port=payment_port,
        )
    except ServerStartError as exc:  # taken between the check and the start
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    box = None
    try:
        settings = with_simulated_suppliers(
            settings, sims.supplier_endpoints(), sims.payment.base_url
        )
        upgrade(settings.database_url)
        box = build(settings)
        app = create_app(settings, container=box)
        typer.echo(
            f"supplier simulator {sims.supplier.base_url}, payment sandbox {sims.payment.base_url}"
        )
        if seed_only:
            server = run_in_thread(app, host, port)
            try:
                _seed(box, sims, settings, var)
            finally:
                server.stop()
        else:
            _serve_and_seed(app, host, port, box, sims, settings, var)
    finally:
        sims.stop()
        if box is not None:
            box.close()


def _require_free_ports(host: str, ports: list[tuple[str, str, int]]) -> None:
    """Exit with a message naming the port when one the demo needs is taken."""
    import socket

    for what, option, number in ports:
        if number == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                probe.bind((host, number))
            except OSError as exc:
                typer.secho(
                    f"error: port {number} on {host} is not free for {what} ({exc.strerror}); "
                    f"choose another with {option}",
                    fg="red",
                    err=True,
                )
                raise typer.Exit(1) from exc


def _seed(box, sims, settings, var) -> None:  # type: ignore[no-untyped-def]
    from kamidesk.demo import seed
    from simulators.admin import PaymentSandboxAdmin, SupplierSimAdmin

    typer.echo("seeding the demo shop; orders:")
    supplier_admin = SupplierSimAdmin(sims.supplier.base_url)
    payment_admin = PaymentSandboxAdmin(sims.payment.base_url)
    try:
        seed(box, supplier_admin, payment_admin, typer.echo)
    finally:
        supplier_admin.close()
        payment_admin.close()
    base = settings.public_base_url
    typer.echo(f"""
kamidesk demo is running at {base}   (OpenAPI docs: {base}/docs)
  shop token : {settings.shop_api_token.get_secret_value()}
  staff token: {settings.staff_api_token.get_secret_value()}
  (secrets live in {var / "demo.env"})
try:
  curl -H 'Authorization: Bearer <shop token>' {base}/api/v1/orders/KM2026112200001
  curl -X POST -H 'Authorization: Bearer <staff token>' -H 'Content-Type: application/json' \\
       -d '{{"request_id":"try-1","reason":"customer says invalid"}}' \\
       {base}/api/v1/orders/KM2026112200002/reissue
""")
    if settings.telegram_bot_token:
        typer.echo("Telegram: message your bot in a private chat (prove orders: demo@example.com)")


def _serve_and_seed(app, host, port, box, sims, settings, var) -> None:  # type: ignore[no-untyped-def]
    import threading

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning")
    )

    def seed_when_up() -> None:
        import time

        while not server.started:
            time.sleep(0.05)
        _seed(box, sims, settings, var)

    threading.Thread(target=seed_when_up, daemon=True, name="demo-seed").start()
    server.run()


def bench(
    orders: int = typer.Option(500, help="orders per database"),
    workers: int = typer.Option(8, help="concurrent delivery workers"),
    postgres: str | None = typer.Option(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="admin URL of a PostgreSQL server (a scratch database is created); '' to skip",
    ),
) -> None:
    """Deliver N paid card-key orders with W workers; print throughput and latency."""
    from kamidesk.bench import run_benchmarks

    run_benchmarks(
        orders=orders, workers=workers, postgres_admin_url=postgres or None, echo=typer.echo
    )
