"""The signature scheme shared by our suppliers and the payment provider.

The common Chinese-provider scheme: take every parameter except `sign` and except empty values,
sort by key (byte order), join as `k1=v1&k2=v2`, append `&key=SECRET`, then

- `sign_type=MD5` (the default when absent): uppercase hex MD5 of that string (UTF-8);
- `sign_type=HMAC-SHA256`: uppercase hex HMAC-SHA256 of that string, keyed with the secret.

`sign_type` itself, when present, is signed like any other parameter, so it cannot be swapped.

Errors::

    ValueError
     ├── UnsupportedSignType               -- a sign_type we do not implement
     └── fulfilment.ports.SignatureError   -- a callback failed verification
          ├── MalformedCallback            -- signed correctly, but fields missing or unknown
          └── StaleCallback                -- signed correctly, but its timestamp is outside
                                              the replay window (a replayed notification)

A callback's `timestamp` (Unix seconds) is signed like every other field, so once the signature
verifies, `check_timestamp` can refuse a notification captured and sent again later.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from fulfilment.ports import SignatureError

MD5 = "MD5"
HMAC_SHA256 = "HMAC-SHA256"
SIGN_TYPES = (MD5, HMAC_SHA256)


class UnsupportedSignType(ValueError):
    """The `sign_type` is neither MD5 nor HMAC-SHA256."""


class MalformedCallback(SignatureError):
    """A callback whose signature verifies but whose content we cannot use."""


class StaleCallback(SignatureError):
    """A correctly signed callback whose timestamp is missing or outside the replay window."""

    code = "stale_timestamp"


DEFAULT_MAX_AGE_SECONDS = 300  # what our providers allow for requests (and the simulators)


def check_timestamp(params: Mapping[str, str], *, now: float, max_age: float) -> None:
    """Refuse a callback whose signed `timestamp` is not within `max_age` seconds of `now`."""
    raw = str(params.get("timestamp") or "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise StaleCallback("callback without a valid timestamp (Unix seconds)")
    stamp = int(raw)
    if abs(now - stamp) > max_age:
        raise StaleCallback(f"callback timestamp is more than {max_age:.0f} s from now")


def canonical_string(params: Mapping[str, str]) -> str:
    """The sorted `k=v&k2=v2` string that gets signed (without the secret)."""
    items = sorted((k, str(v)) for k, v in params.items() if k != "sign" and str(v) != "")
    return "&".join(f"{k}={v}" for k, v in items)


def sign(params: Mapping[str, str], secret: str, sign_type: str | None = None) -> str:
    """The signature of `params` (uppercase hex); `sign_type` defaults to params' or MD5."""
    kind = sign_type or params.get("sign_type") or MD5
    payload = f"{canonical_string(params)}&key={secret}".encode()
    if kind == MD5:
        return hashlib.md5(payload, usedforsecurity=False).hexdigest().upper()
    if kind == HMAC_SHA256:
        return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest().upper()
    raise UnsupportedSignType(f"unsupported sign_type {kind!r}")


def signed(params: Mapping[str, str], secret: str) -> dict[str, str]:
    """A copy of `params` with `sign` added (uses `params['sign_type']` when present)."""
    out = {k: str(v) for k, v in params.items() if k != "sign"}
    out["sign"] = sign(out, secret)
    return out


def verify(params: Mapping[str, str], secret: str) -> bool:
    """True when `params['sign']` is the right signature for the other parameters."""
    given = params.get("sign", "")
    if not given:
        return False
    try:
        expected = sign(params, secret)
    except UnsupportedSignType:
        return False
    return hmac.compare_digest(expected.encode(), str(given).upper().encode())
