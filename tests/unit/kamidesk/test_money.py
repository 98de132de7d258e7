from __future__ import annotations

from decimal import Decimal

import pytest

from fulfilment.money import AmountFormatError, format_amount, to_cents


def test_decimal_amounts_become_exact_cents_and_back():
    assert to_cents(Decimal("98.50")) == 9850
    assert to_cents(Decimal("100")) == 10000
    assert format_amount(to_cents(Decimal("0.07"))) == "0.07"
    assert format_amount(123456789012345678) == "1234567890123456.78"  # no float rounding


def test_a_third_decimal_is_refused_not_rounded():
    with pytest.raises(AmountFormatError):
        to_cents(Decimal("10.005"))
