"""One signed form POST to a provider, with every failure folded into the answer.

Providers answer HTTP 200 with `{"code": "0000", "msg": "...", "data": {...}}`. Anything else
— a timeout, a refused connection, a 5xx, an HTML page, JSON without `code` — becomes an
`Answer` whose `code` is None and whose `problem` says what happened. Callers map that to
UNKNOWN: the request may or may not have taken effect. Nothing here raises for the network.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Self

import httpx

from fulfilment.suppliers.signing import (
    DEFAULT_MAX_AGE_SECONDS,
    SIGN_TYPES,
    check_timestamp,
    signed,
)

OK = "0000"


@dataclass(frozen=True)
class Answer:
    """A provider's answer; `code` is None when there was no readable answer."""

    code: str | None
    msg: str = ""
    data: Mapping[str, object] = field(default_factory=dict)
    problem: str = ""

    @property
    def ok(self) -> bool:
        """The provider said "0000"."""
        return self.code == OK

    def describe(self) -> str:
        """'3001: no order R2', or the problem when there was no readable answer."""
        if self.code is None:
            return self.problem
        return f"{self.code}: {self.msg}" if self.msg else self.code

    def text(self, key: str) -> str:
        """`data[key]` as a string ("" when absent or null)."""
        value = self.data.get(key)
        return "" if value is None else str(value)


def post_signed(
    client: httpx.Client,
    url: str,
    params: Mapping[str, str],
    *,
    secret: str,
    timeout: float,
    clock: Callable[[], float] = time.time,
) -> Answer:
    """Sign `params` (adding `timestamp`), POST them as a form, and read the envelope."""
    body = signed({**params, "timestamp": str(int(clock()))}, secret)
    try:
        response = client.post(url, data=body, timeout=timeout)
    except httpx.TimeoutException as exc:
        return Answer(None, problem=f"timeout ({type(exc).__name__})")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Answer(None, problem=f"transport error ({type(exc).__name__})")
    if response.status_code != 200:
        return Answer(None, problem=f"HTTP {response.status_code}")
    return read_envelope(response.content)


def read_envelope(content: bytes) -> Answer:
    """Parse the JSON envelope; an unreadable one gives `Answer(code=None)`."""
    try:
        payload = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return Answer(None, problem="unreadable answer (not JSON)")
    if not isinstance(payload, dict) or not isinstance(payload.get("code"), str | int):
        return Answer(None, problem="unreadable answer (no code)")
    data = payload.get("data")
    if data is not None and not isinstance(data, dict):
        return Answer(None, problem="unreadable answer (data is not an object)")
    return Answer(str(payload["code"]), msg=str(payload.get("msg") or ""), data=data or {})


class SignedEndpoint:
    """A merchant account at one provider: signs, posts, owns (or borrows) an HTTP client.

    The supplier and payment adapters both derive from it; `label` names the account in errors.
    """

    def __init__(
        self,
        *,
        label: str,
        base_url: str,
        merchant_id: str,
        secret: str,
        sign_type: str,
        timeout: float,
        client: httpx.Client | None,
        clock: Callable[[], float],
        callback_max_age: float = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        if sign_type not in SIGN_TYPES:
            raise ValueError(f"sign_type must be one of {SIGN_TYPES}, not {sign_type!r}")
        if not secret:
            raise ValueError(f"{label}: empty secret")
        self._base_url = base_url.rstrip("/")
        self._merchant_id = merchant_id
        self._secret = secret
        self._sign_type = sign_type
        self._timeout = timeout
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client()
        self._clock = clock
        self._callback_max_age = callback_max_age

    def _check_fresh(self, params: Mapping[str, str]) -> None:
        """StaleCallback unless the (verified) callback was signed within the replay window."""
        check_timestamp(params, now=self._clock(), max_age=self._callback_max_age)

    def close(self) -> None:
        """Close the HTTP client if this adapter created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _post(self, path: str, params: dict[str, str]) -> Answer:
        base = {"merchant_id": self._merchant_id, "sign_type": self._sign_type}
        return post_signed(
            self._client,
            f"{self._base_url}{path}",
            {**base, **params},
            secret=self._secret,
            timeout=self._timeout,
            clock=self._clock,
        )
