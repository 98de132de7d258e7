"""The signature scheme and the wire amount format."""

from __future__ import annotations

import pytest

from fulfilment.money import AmountFormatError, format_amount, parse_amount
from fulfilment.suppliers.signing import (
    UnsupportedSignType,
    canonical_string,
    sign,
    signed,
    verify,
)

PARAMS = {
    "order_id": "R1",
    "merchant_id": "m1",
    "amount": "10.00",
    "account": "13800138000",
    "notify_url": "",  # empty values are not signed
    "sign": "IGNORED",  # the signature never signs itself
}


def test_canonical_string_sorts_keys_and_skips_empty_values_and_sign() -> None:
    assert (
        canonical_string(PARAMS) == "account=13800138000&amount=10.00&merchant_id=m1&order_id=R1"
    )


def test_md5_signature_matches_a_vector_computed_by_hand() -> None:
    # md5("account=13800138000&amount=10.00&merchant_id=m1&order_id=R1&key=k3y"), uppercase
    assert sign(PARAMS, "k3y") == "CCD218D26DAE46AD4E58646241D2DF18"


def test_hmac_sha256_signature_matches_a_vector_and_signs_the_sign_type_too() -> None:
    params = {**PARAMS, "sign_type": "HMAC-SHA256"}
    expected = "60E3811EDBFED885826AE858A5626FB56B9D5B6DE29DD5CE463FDB60CE876BFB"
    assert sign(params, "k3y") == expected


def test_verify_accepts_a_signed_request_and_a_lowercase_signature() -> None:
    params = signed({"a": "1", "b": "中文"}, "s")
    assert verify(params, "s")
    assert verify({**params, "sign": params["sign"].lower()}, "s")


@pytest.mark.parametrize(
    "change",
    [
        {"a": "2"},  # tampered value
        {"c": "3"},  # added parameter
        {"sign": ""},  # missing signature
        {"sign_type": "HMAC-SHA256"},  # swapped algorithm (sign_type is signed)
        {"sign_type": "SHA1"},  # unsupported algorithm
    ],
)
def test_verify_rejects_any_change_to_a_signed_request(change: dict[str, str]) -> None:
    params = signed({"a": "1", "b": "2"}, "s")
    assert not verify({**params, **change}, "s")


def test_verify_rejects_the_wrong_secret() -> None:
    assert not verify(signed({"a": "1"}, "s"), "other")


def test_sign_refuses_an_unsupported_sign_type() -> None:
    with pytest.raises(UnsupportedSignType):
        sign({"a": "1", "sign_type": "RSA2"}, "s")


@pytest.mark.parametrize(("cents", "text"), [(0, "0.00"), (5, "0.05"), (1999, "19.99")])
def test_amounts_format_with_two_decimals_and_parse_back_exactly(cents: int, text: str) -> None:
    assert format_amount(cents) == text
    assert parse_amount(text) == cents


def test_parse_amount_accepts_fewer_decimals() -> None:
    assert parse_amount("10") == 1000
    assert parse_amount("10.5") == 1050


@pytest.mark.parametrize("text", ["", "10.005", "-1", "1e3", "NaN", "1.2.3", " ", "١٠"])
def test_parse_amount_rejects_what_is_not_a_plain_amount(text: str) -> None:
    with pytest.raises(AmountFormatError):
        parse_amount(text)


@pytest.mark.parametrize("cents", [-1, 1.5, True, "100"])
def test_format_amount_rejects_what_is_not_non_negative_integer_cents(cents: object) -> None:
    with pytest.raises(AmountFormatError):
        format_amount(cents)  # type: ignore[arg-type]
