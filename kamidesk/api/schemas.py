"""Request and response bodies of the shop API."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Money = Decimal
SKU = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
REQUEST_ID = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in items):
            raise ValueError("text must not contain NUL characters")
        return value


class SupplierLink(Strict):
    code: str = Field(min_length=1, max_length=40)
    priority: int = Field(default=100, ge=0, le=10_000)
    product_code: str | None = Field(default=None, max_length=64)


class ProductIn(Strict):
    sku: str = SKU
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["card_key", "direct_topup"]
    face_value: Money = Field(gt=0, max_digits=12, decimal_places=2)
    price: Money = Field(gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    safety_stock: int = Field(default=0, ge=0, le=1_000_000)
    suppliers: list[SupplierLink] = Field(default_factory=list, max_length=20)
    # Whether keys differing only in case are different keys; fixed once the product exists.
    keys_case_sensitive: bool = True


class SupplierIn(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    supports_key_check: bool = True


class KeysIn(Strict):
    keys: list[str] = Field(min_length=1, max_length=10_000)
    supplier_code: str | None = Field(default=None, max_length=40)
    batch: str | None = Field(default=None, max_length=64)


class OrderIn(Strict):
    order_no: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{3,63}$")
    sku: str = SKU
    quantity: int = Field(ge=1, le=100)
    amount: Money = Field(gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    buyer_email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )
    buyer_phone: str | None = Field(default=None, pattern=r"^\+?[0-9 -]{5,20}$")
    buyer_telegram_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    recharge_account: str | None = Field(default=None, min_length=1, max_length=128)
    paid: bool = True
    payment_txn_id: str | None = Field(default=None, min_length=1, max_length=80)


class ReissueIn(Strict):
    request_id: str = REQUEST_ID
    reason: str = Field(min_length=1, max_length=500)
    unit_no: int | None = Field(default=None, ge=1, le=100)
    override: bool = False


class RefundIn(Strict):
    request_id: str = REQUEST_ID
    reason: str = Field(min_length=1, max_length=500)
    amount: Money | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    approve: bool = False  # staff approves at once (over the auto-approve limit)
