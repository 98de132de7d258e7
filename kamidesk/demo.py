"""`kamidesk demo`: a whole shop on one machine, no servers and no internet.

SQLite under var/, the supplier simulator and the payment sandbox in background threads, the app
on 127.0.0.1:8000 with the in-process job runner, and a seeded shop whose orders show each
after-sales case (see DEMO_ORDERS and the README).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from fulfilment.actors import Actor
from fulfilment.keyvault import KeyVault
from fulfilment.money import to_cents
from fulfilment.services import catalog, orders, queries
from kamidesk.bootstrap import Container
from kamidesk.settings import Settings, SupplierEndpoint

PAYMENT_MERCHANT = "kamidesk-demo"
DEMO = Actor.system("demo")
BUYER = {"buyer_email": "demo@example.com", "buyer_telegram_id": "10001"}


@dataclass(frozen=True)
class DemoOrder:
    order_no: str
    sku: str
    story: str
    account: str | None = None


DEMO_ORDERS = (
    DemoOrder("KM2026112200001", "STEAM-50", "delivered Steam key"),
    DemoOrder("KM2026112200002", "STEAM-50", "key the supplier reports invalid: reissue works"),
    DemoOrder(
        "KM2026112200003",
        "STEAM-50",
        "key redeemed after delivery: reissue goes to a person, refund refused",
    ),
    DemoOrder("DJ2026112200000004", "CM-100", "phone top-up delivered by sup-a", "13800138000"),
    DemoOrder("DJ2026112200000005", "CM-100", "sup-a refuses, fails over to sup-b", "13900139000"),
    DemoOrder("DJ2026112200000006", "CM-100", "every supplier fails: refundable", "13700137000"),
    DemoOrder("KM2026112200007", "STEAM-50", "paid but the callback was lost: confirm payment"),
    DemoOrder(
        "KM2026112200008", "APPLE-100", "last keys: the product pauses under its safety stock"
    ),
)


def demo_settings(var: Path, *, host: str, port: int) -> Settings:
    """Settings for the demo, with secrets generated once into var/demo.env."""
    env = _demo_env(var / "demo.env")
    return Settings(
        demo_mode=True,
        database_url=f"sqlite:///{var / 'demo.db'}",
        redis_url=None,
        key_encryption_key=SecretStr(env["KEY_ENCRYPTION_KEY"]),
        shop_api_token=SecretStr(env["SHOP_API_TOKEN"]),
        staff_api_token=SecretStr(env["STAFF_API_TOKEN"]),
        payment_merchant_id=PAYMENT_MERCHANT,
        payment_secret=SecretStr(env["PAYMENT_SECRET"]),
        public_base_url=f"http://{host}:{port}",
        supplier_poll_seconds=2.0,
        supplier_timeout_seconds=3.0,
        sweep_interval_seconds=1.0,
    )


def _demo_env(path: Path) -> dict[str, str]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        values = {
            "KEY_ENCRYPTION_KEY": KeyVault.generate_key(),
            "SHOP_API_TOKEN": "shop-" + secrets.token_urlsafe(16),
            "STAFF_API_TOKEN": "staff-" + secrets.token_urlsafe(16),
            "PAYMENT_SECRET": secrets.token_urlsafe(24),
        }
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def with_simulated_suppliers(
    settings: Settings, endpoints: list[dict[str, object]], payment_url: str
) -> Settings:
    """The settings pointed at the running simulators."""
    return settings.model_copy(
        update={
            "suppliers": [SupplierEndpoint.model_validate(e) for e in endpoints],
            "payment_base_url": payment_url,
        }
    )


def seed(
    box: Container,
    supplier_admin,
    payment_admin,  # type: ignore[no-untyped-def]
    log: Callable[[str], None],
) -> None:
    """Create the demo shop and walk each demo order to its story's starting point."""
    uow = box.uow()
    for code, name in (
        ("sup-a", "Alpha Cards"),
        ("sup-b", "Beta Recharge"),
        ("sup-c", "Gamma Wholesale (no key check)"),
    ):
        catalog.add_supplier(
            uow=uow, code=code, name=name, supports_key_check=code != "sup-c", actor=DEMO
        )
    _product(uow, "STEAM-50", "Steam Wallet 50 CNY", "card_key", "50", "48.00", 0, [("sup-a", 1)])
    _product(uow, "APPLE-100", "App Store 100 CNY", "card_key", "100", "96.00", 3, [("sup-c", 1)])
    _product(
        uow,
        "CM-100",
        "China Mobile 100 CNY top-up",
        "direct_topup",
        "100",
        "98.50",
        0,
        [("sup-a", 1), ("sup-b", 2)],
    )
    catalog.import_keys(
        uow=uow,
        sku="STEAM-50",
        supplier_code="sup-a",
        batch="demo-1",
        keys=supplier_admin.mint_keys("sup-a", "STEAM-50", 20),
        actor=DEMO,
    )
    catalog.import_keys(
        uow=uow,
        sku="APPLE-100",
        supplier_code="sup-c",
        batch="demo-1",
        keys=supplier_admin.mint_keys("sup-c", "APPLE-100", 3),
        actor=DEMO,
    )
    supplier_admin.add_fault(
        "sup-a", "outcome", outcome="reject", operation="submit", account="13900139000"
    )
    for code in ("sup-a", "sup-b"):
        supplier_admin.add_fault(
            code, "outcome", outcome="reject", operation="submit", account="13700137000"
        )
    payment_admin.add_fault("callback_lost", order_no="KM2026112200007")
    for demo in DEMO_ORDERS:
        _pay(box, uow, payment_admin, demo)
    for demo in DEMO_ORDERS:
        if demo.order_no != "KM2026112200007":
            _wait_until_settled(box, demo.order_no)
        log(f"  {demo.order_no:<20} {demo.sku:<10} {demo.story}")
    _break_keys(box, supplier_admin)


def _product(uow, sku, name, kind, face, price, safety, links):  # type: ignore[no-untyped-def]
    catalog.create_product(
        uow=uow,
        sku=sku,
        name=name,
        kind=kind,
        face_value=Decimal(face),
        price=Decimal(price),
        currency="CNY",
        safety_stock=safety,
        suppliers=[catalog.SupplierLink(code, priority) for code, priority in links],
        actor=DEMO,
    )


def _pay(box: Container, uow, payment_admin, demo: DemoOrder) -> None:  # type: ignore[no-untyped-def]
    """Order -> payment at the sandbox -> the customer pays -> signed callback to the app."""
    price = catalog.get_product(uow=uow, sku=demo.sku).price  # as seeded above
    data = orders.OrderInput(
        order_no=demo.order_no,
        sku=demo.sku,
        quantity=1,
        amount=Decimal(price),
        currency="CNY",
        recharge_account=demo.account,
        **BUYER,
    )
    orders.ingest_order(uow=uow, data=data, paid=False, actor=DEMO)
    created = box.payments.create_payment(
        order_no=demo.order_no,
        amount_cents=to_cents(Decimal(price)),
        currency="CNY",
        notify_url=f"{box.settings.public_base_url}/api/v1/callbacks/payment",
        subject=demo.sku,
    )
    if not created.ok:
        raise RuntimeError(f"sandbox refused payment for {demo.order_no}: {created.message}")
    payment_admin.pay(demo.order_no)


def _wait_until_settled(box: Container, order_no: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = queries.get_order(uow=box.uow(), order_no=order_no).status
        if status in ("delivered", "failed"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"demo order {order_no} did not settle in {timeout:.0f}s")


def _break_keys(box: Container, supplier_admin) -> None:  # type: ignore[no-untyped-def]
    """Order 2's key turns out bad; order 3's key is redeemed by the customer."""
    from fulfilment.services.ownership import Proof, reveal_keys

    proof = Proof(email=BUYER["buyer_email"])
    for order_no, action in (
        ("KM2026112200002", supplier_admin.invalidate_key),
        ("KM2026112200003", supplier_admin.redeem_key),
    ):
        keys = reveal_keys(
            uow=box.uow(), order_no=order_no, claimant=Actor.customer("demo-seed"), proof=proof
        )
        assert keys, order_no
        action("sup-a", keys[0].key)
