"""Money: integer cents inside the project; decimal strings with two decimals ("10.00") on the
wire, in messages and in views. Every conversion goes through here and is exact (no floats).

Errors::

    ValueError
     └── AmountFormatError   -- not a non-negative amount with at most two decimals
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class AmountFormatError(ValueError):
    """The text is not a non-negative amount with at most two decimals."""


def format_amount(cents: int) -> str:
    """12345 -> "123.45"."""
    if isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
        raise AmountFormatError(f"amount in cents must be a non-negative int, got {cents!r}")
    return f"{cents // 100}.{cents % 100:02d}"


def to_cents(amount: Decimal) -> int:
    """Decimal currency units to integer cents; more than two decimals is an error."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise AmountFormatError(f"more than two decimals: {amount}")
    return int(cents)


def parse_amount(text: str) -> int:
    """ "123.45" -> 12345; "10" and "10.5" are accepted, "10.005", "-1", "1e3" are not."""
    raw = str(text).strip()
    if not raw or not all(c in "0123456789." for c in raw):
        raise AmountFormatError(f"not an amount: {text!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise AmountFormatError(f"not an amount: {text!r}") from exc
    cents = value * 100
    if cents != cents.to_integral_value():
        raise AmountFormatError(f"more than two decimals: {text!r}")
    return int(cents)
