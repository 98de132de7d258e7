"""The wire conventions both simulators share, like most Chinese payment/supplier APIs.

Requests are `application/x-www-form-urlencoded` POSTs carrying `merchant_id`, `timestamp`
(Unix seconds), optional `sign_type` (MD5 | HMAC-SHA256, default MD5) and `sign`
(see `fulfilment.suppliers.signing`). Answers are HTTP 200 with a JSON envelope::

    {"code": "0000", "msg": "ok", "data": {...}}

`code` is "0000" on success; any other code is a business error listed in `Code`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from fulfilment.suppliers.signing import SIGN_TYPES, verify

TIMESTAMP_WINDOW_SECONDS = 300
BEIJING = timezone(timedelta(hours=8))


class Code(StrEnum):
    OK = "0000"
    BAD_PARAM = "1001"  # a parameter is missing or malformed
    UNKNOWN_MERCHANT = "1002"
    BAD_SIGNATURE = "1003"
    STALE_TIMESTAMP = "1004"  # |now - timestamp| > 300 s
    ORDER_CONFLICT = "2001"  # same order id, different parameters
    REJECTED = "2002"  # the supplier refuses the top-up (bad account, product off sale)
    NOT_PAID = "2003"  # refund of a payment that is not paid
    OVER_REFUND = "2004"  # refunds would exceed the paid amount
    REFUND_CONFLICT = "2005"  # same refund ref, different parameters
    CURRENCY_MISMATCH = "2006"
    PAYMENT_CONFLICT = "2007"  # same order_no, different amount or currency
    NOT_FOUND = "3001"  # no such order / payment / refund
    UNSUPPORTED = "4001"  # this supplier cannot do that (e.g. check keys)
    BUSY = "9999"  # "system busy, try later" — outcome unknown


class ProtocolError(Exception):
    """A request the simulator answers with a business error code."""

    def __init__(self, code: Code, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def ok(data: Mapping[str, object]) -> JSONResponse:
    """The success envelope."""
    return JSONResponse({"code": Code.OK.value, "msg": "ok", "data": dict(data)})


def error(exc: ProtocolError) -> JSONResponse:
    """The error envelope (always HTTP 200, like the real thing)."""
    return JSONResponse({"code": exc.code.value, "msg": exc.msg, "data": None})


def http_error_page(status_code: int) -> HTMLResponse:
    """What a gateway in front of a supplier returns when it breaks."""
    text = f"<html><body><h1>{status_code}</h1>upstream error</body></html>"
    return HTMLResponse(text, status_code=status_code)


def garbage() -> HTMLResponse:
    """A 200 answer that is not the protocol's JSON (maintenance page, proxy login, ...)."""
    return HTMLResponse("<html><body>系统维护中 / under maintenance</body></html>")


async def read_form(request: Request) -> dict[str, str]:
    """All form fields as strings (files are ignored)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def authenticate(params: Mapping[str, str], merchants: Mapping[str, str]) -> str:
    """Check merchant, sign_type, timestamp and signature; returns the merchant's secret."""
    merchant_id = params.get("merchant_id", "")
    if not merchant_id:
        raise ProtocolError(Code.BAD_PARAM, "merchant_id is required")
    secret = merchants.get(merchant_id)
    if secret is None:
        raise ProtocolError(Code.UNKNOWN_MERCHANT, f"unknown merchant {merchant_id}")
    sign_type = params.get("sign_type") or "MD5"
    if sign_type not in SIGN_TYPES:
        raise ProtocolError(Code.BAD_PARAM, f"unsupported sign_type {sign_type}")
    if not params.get("sign"):
        raise ProtocolError(Code.BAD_PARAM, "sign is required")
    if not verify(params, secret):
        raise ProtocolError(Code.BAD_SIGNATURE, "signature mismatch")
    try:
        stamp = int(params.get("timestamp", ""))
    except ValueError:
        raise ProtocolError(Code.BAD_PARAM, "timestamp must be Unix seconds") from None
    if abs(time.time() - stamp) > TIMESTAMP_WINDOW_SECONDS:
        raise ProtocolError(Code.STALE_TIMESTAMP, "timestamp outside the allowed window")
    return secret


def require(params: Mapping[str, str], *names: str, max_length: int = 64) -> list[str]:
    """The values of required parameters, in order; BAD_PARAM when one is missing or too long."""
    missing = [n for n in names if not params.get(n, "").strip()]
    if missing:
        raise ProtocolError(Code.BAD_PARAM, f"missing parameter(s): {', '.join(missing)}")
    too_long = [n for n in names if len(params[n].strip()) > max_length]
    if too_long:
        names_text = ", ".join(too_long)
        raise ProtocolError(Code.BAD_PARAM, f"longer than {max_length}: {names_text}")
    return [params[n].strip() for n in names]


def notify_url(params: Mapping[str, str]) -> str:
    """The optional `notify_url`; BAD_PARAM unless it is an http(s) URL."""
    url = params.get("notify_url", "").strip()
    if url and not (url.startswith(("http://", "https://")) and len(url) <= 512):
        raise ProtocolError(Code.BAD_PARAM, "notify_url must be an http(s) URL")
    return url


def beijing_time(moment: datetime) -> str:
    """'2026-11-22 20:15:00': how Chinese providers write times (UTC+8, no zone)."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
