"""Request and response bodies of the shop API.

Types are strict: a JSON string is not a number and `"no"` is not a boolean (`quantity: "1"`
once delivered an order). Integers are bounded to fit their columns (INTEGER is 32 bits on
PostgreSQL). Money is a decimal string such as `"12.50"` or a JSON number with at most two
decimals, read as the decimal it was written as (never a float's binary noise), never a bool.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    field_validator,
)

INT32_MAX = 2**31 - 1  # INTEGER columns on PostgreSQL
MONEY_TEXT = re.compile(r"(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?")


def _money(value: object) -> object:
    """A JSON string or number with at most two decimals -> Decimal; anything else refused."""
    if isinstance(value, bool):
        raise ValueError("an amount must be a decimal string or a number, not true/false")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)  # the shortest text that reads back as this float: what was sent
        text = text[:-2] if text.endswith(".0") else text
    elif isinstance(value, str | Decimal):
        text = str(value)
    else:
        raise ValueError("an amount must be a decimal string or a number")
    if not MONEY_TEXT.fullmatch(text):
        raise ValueError('an amount has at most 10 digits and 2 decimals, e.g. "12.50"')
    return Decimal(text)


MONEY_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$"},
        {"type": "number", "minimum": 0, "multipleOf": 0.01},
    ],
    "examples": ["12.50"],
}
Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    Field(max_digits=12, decimal_places=2),
    WithJsonSchema(MONEY_SCHEMA),
]
StrictInt32 = Annotated[StrictInt, Field(ge=-(2**31), le=INT32_MAX)]
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
    priority: StrictInt32 = Field(default=100, ge=0, le=10_000)
    product_code: str | None = Field(default=None, max_length=64)


class ProductIn(Strict):
    sku: str = SKU
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["card_key", "direct_topup"]
    face_value: Money = Field(gt=0)
    price: Money = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    safety_stock: StrictInt32 = Field(default=0, ge=0, le=1_000_000)
    suppliers: list[SupplierLink] = Field(default_factory=list, max_length=20)
    # Whether keys differing only in case are different keys; fixed once the product exists.
    keys_case_sensitive: bool = True


class SupplierIn(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    supports_key_check: StrictBool = True


class KeysIn(Strict):
    keys: list[str] = Field(min_length=1, max_length=10_000)
    supplier_code: str | None = Field(default=None, max_length=40)
    batch: str | None = Field(default=None, max_length=64)


class OrderIn(Strict):
    order_no: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{3,63}$")
    sku: str = SKU
    quantity: StrictInt32 = Field(ge=1, le=100)
    amount: Money = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    buyer_email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )
    buyer_phone: str | None = Field(default=None, pattern=r"^\+?[0-9 -]{5,20}$")
    buyer_telegram_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    recharge_account: str | None = Field(default=None, min_length=1, max_length=128)
    paid: StrictBool = True
    payment_txn_id: str | None = Field(default=None, min_length=1, max_length=80)


class ReissueIn(Strict):
    request_id: str = REQUEST_ID
    reason: str = Field(min_length=1, max_length=500)
    unit_no: StrictInt32 | None = Field(default=None, ge=1, le=100)
    override: StrictBool = False


class RefundIn(Strict):
    request_id: str = REQUEST_ID
    reason: str = Field(min_length=1, max_length=500)
    amount: Money | None = Field(default=None, gt=0)
    approve: StrictBool = False  # staff approves at once (over the auto-approve limit)
