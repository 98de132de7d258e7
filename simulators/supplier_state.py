"""In-memory state of simulated suppliers: orders, card keys, faults.

Only the simulator's event loop touches it, so it needs no locks.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from simulators.faults import FaultBook
from simulators.protocol import Code, ProtocolError

KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: customers type these
OrderStatus = Literal["processing", "success", "failed"]


class SupplierConfig(BaseModel):
    """One simulated supplier; JSON body of `PUT /admin/suppliers/{code}`."""

    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    merchants: dict[str, str]  # merchant_id -> secret
    callback_sign_type: Literal["MD5", "HMAC-SHA256"] = "MD5"
    processing_delay: float = Field(default=0.0, ge=0, le=3600)  # seconds until final state
    callback_attempts: int = Field(default=3, ge=1, le=20)
    callback_backoff: float = Field(default=0.2, ge=0, le=60)
    supports_key_check: bool = True


@dataclass
class SupplierOrder:
    order_id: str  # the merchant's request ref (our idempotency key)
    supplier_order_id: str
    merchant_id: str
    product_code: str
    account: str
    amount_cents: int
    notify_url: str
    status: OrderStatus = "processing"
    planned: OrderStatus = "success"
    message: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    def same_request(self, product_code: str, account: str, amount_cents: int) -> bool:
        """Whether a repeated submit asks for the same thing."""
        return (self.product_code, self.account, self.amount_cents) == (
            product_code,
            account,
            amount_cents,
        )

    def as_json(self) -> dict[str, object]:
        """Admin view."""
        return {
            "order_id": self.order_id,
            "supplier_order_id": self.supplier_order_id,
            "merchant_id": self.merchant_id,
            "product_code": self.product_code,
            "account": self.account,
            "amount_cents": self.amount_cents,
            "status": self.status,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclass
class CardKey:
    product_code: str
    state: Literal["unused", "used", "invalid"] = "unused"
    used_at: datetime | None = None


class SupplierState:
    """One simulated supplier."""

    def __init__(self, config: SupplierConfig, on_final: Callable[[SupplierOrder], None]) -> None:
        self.config = config
        self.orders: dict[str, SupplierOrder] = {}
        self.keys: dict[str, CardKey] = {}
        self.faults = FaultBook()
        self.submits: dict[str, int] = {}  # account -> authenticated submit requests received
        self._on_final = on_final
        self._seq = itertools.count(1)
        self._timers: set[asyncio.Task[None]] = set()

    def submit(
        self, *, merchant_id: str, order_id: str, product_code: str, account: str,
        amount_cents: int, notify_url: str, outcome: str | None,
    ) -> SupplierOrder:  # fmt: skip
        """Create the order, or return the existing one for a repeated `order_id`."""
        existing = self.orders.get(order_id)
        if existing is not None:
            if not existing.same_request(product_code, account, amount_cents):
                raise ProtocolError(
                    Code.ORDER_CONFLICT, f"order {order_id} exists with other data"
                )
            return existing
        if outcome == "reject":
            raise ProtocolError(Code.REJECTED, "recharge account not supported")
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        order = SupplierOrder(
            order_id=order_id,
            supplier_order_id=f"{self.config.code.upper()}{stamp}{next(self._seq):05d}",
            merchant_id=merchant_id,
            product_code=product_code,
            account=account,
            amount_cents=amount_cents,
            notify_url=notify_url,
            planned=outcome if outcome in ("success", "failed", "processing") else "success",  # type: ignore[arg-type]
        )
        self.orders[order_id] = order
        if order.planned != "processing":
            self._schedule(order)
        return order

    def _schedule(self, order: SupplierOrder) -> None:
        if self.config.processing_delay <= 0:
            self.finish(order, order.planned)
            return
        task = asyncio.get_running_loop().create_task(self._finish_later(order))
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _finish_later(self, order: SupplierOrder) -> None:
        await asyncio.sleep(self.config.processing_delay)
        self.finish(order, order.planned)

    def finish(self, order: SupplierOrder, status: OrderStatus, message: str = "") -> bool:
        """Move a processing order to its final state; False when it already was final."""
        if order.status != "processing" or status == "processing":
            return False
        order.status = status
        order.message = message or ("充值成功" if status == "success" else "充值失败")
        order.finished_at = datetime.now(UTC)
        self._on_final(order)
        return True

    def topups(self) -> dict[str, dict[str, int]]:
        """account -> {count, amount_cents} of successful top-ups."""
        out: dict[str, dict[str, int]] = {}
        for order in self.orders.values():
            if order.status == "success":
                entry = out.setdefault(order.account, {"count": 0, "amount_cents": 0})
                entry["count"] += 1
                entry["amount_cents"] += order.amount_cents
        return out

    def mint_keys(self, product_code: str, count: int) -> list[str]:
        """New unused keys for `product_code` (plaintext, for importing into the shop)."""
        minted: list[str] = []
        while len(minted) < count:
            raw = "".join(secrets.choice(KEY_ALPHABET) for _ in range(16))
            key = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
            if key not in self.keys:
                self.keys[key] = CardKey(product_code=product_code)
                minted.append(key)
        return minted

    def redeem_key(self, key: str) -> CardKey:
        """A customer redeemed the key (first redemption wins; used_at never moves)."""
        card = self._key(key)
        if card.state == "unused":
            card.state = "used"
            card.used_at = datetime.now(UTC)
        return card

    def invalidate_key(self, key: str) -> CardKey:
        """The supplier voids the key."""
        card = self._key(key)
        card.state = "invalid"
        return card

    def _key(self, key: str) -> CardKey:
        card = self.keys.get(key)
        if card is None:
            raise ProtocolError(Code.NOT_FOUND, "unknown key")
        return card

    def close(self) -> None:
        """Stop pending timers."""
        for task in list(self._timers):
            task.cancel()
