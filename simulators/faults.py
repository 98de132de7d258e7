"""Deterministic fault injection shared by the supplier simulator and the payment sandbox.

A `FaultRule` says what goes wrong (`kind`), where (`operation`, `account`, `product_code`,
`order_no`), how often (`times`: the first N matching calls, then the rule retires; `rate`:
a probability drawn from a per-rule `random.Random(seed)`, so runs repeat exactly).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from fastapi import Response
from pydantic import BaseModel, Field, PrivateAttr

from simulators.protocol import garbage, http_error_page

FaultKind = Literal[
    "latency",  # sleep `seconds`, then answer normally
    "timeout",  # sleep `seconds` (longer than the client waits); `create_order` decides the fate
    "http_error",  # answer `status_code` (5xx) with an HTML page; `create_order` as above
    "bad_response",  # answer 200 with a body that is not the protocol's JSON
    "outcome",  # force the final state: success | failed | processing | reject (| pending)
    "callback_lost",  # never send the callback
    "callback_bad_sign",  # send callbacks with a wrong signature
    "key_used",  # check-key reports the key used, whatever its real state
    "key_invalid",  # check-key reports the key invalid
]


class FaultRule(BaseModel):
    """One injected fault; JSON body of `POST /admin/.../faults`."""

    kind: FaultKind
    operation: str | None = None  # submit | query | check_key | create | refund | ...; None: all
    account: str | None = None
    product_code: str | None = None
    order_no: str | None = None  # our order id / payment order_no / refund_ref
    seconds: float = Field(default=0.0, ge=0, le=120)
    status_code: int = Field(default=500, ge=400, le=599)
    outcome: str | None = None
    create_order: bool = False
    times: int | None = Field(default=None, ge=1)
    rate: float = Field(default=1.0, ge=0, le=1)
    seed: int | None = None
    id: int = 0

    _rng: random.Random = PrivateAttr(default_factory=random.Random)

    def model_post_init(self, _context: object) -> None:
        self._rng = random.Random(self.seed)

    def matches(self, kind: str, operation: str | None, scope: dict[str, str | None]) -> bool:
        """Whether this rule is for `kind` at `operation` with these scope values."""
        if self.kind != kind:
            return False
        if self.operation is not None and operation is not None and self.operation != operation:
            return False
        for name in ("account", "product_code", "order_no"):
            wanted = getattr(self, name)
            if wanted is not None and scope.get(name) != wanted:
                return False
        return True


class FaultBook:
    """The active rules of one supplier (or of the payment sandbox)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, rule: FaultRule) -> FaultRule:
        """Activate `rule`; returns it with its id."""
        stored = rule.model_copy(update={"id": next(self._ids)})
        stored.model_post_init(None)
        self._rules.append(stored)
        return stored

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; False when there was none with that id."""
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    def rules(self) -> list[FaultRule]:
        """The active rules, oldest first."""
        return list(self._rules)

    def take(
        self, kind: str, operation: str | None = None, **scope: str | None
    ) -> FaultRule | None:
        """The first matching rule that fires now (consuming one of its `times`), or None."""
        for rule in self._rules:
            if not rule.matches(kind, operation, scope):
                continue
            if rule.rate < 1.0 and rule._rng.random() >= rule.rate:
                continue
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
            return rule
        return None


@dataclass(frozen=True)
class Disruption:
    """The transport faults that fire for one request."""

    timeout: FaultRule | None = None
    http_error: FaultRule | None = None
    bad_response: FaultRule | None = None

    @property
    def lets_action_happen(self) -> bool:
        """No fault fired, or one that fired still wants the order/refund to be made."""
        fired = [r for r in (self.timeout, self.http_error, self.bad_response) if r]
        return not fired or any(r.create_order for r in fired)

    async def answer(self) -> Response | None:
        """Sleep for a timeout; the broken answer to give instead, or None to answer normally."""
        if self.timeout:
            await asyncio.sleep(self.timeout.seconds)
        if self.http_error:
            return http_error_page(self.http_error.status_code)
        if self.bad_response:
            return garbage()
        return None


async def disrupt(
    faults: FaultBook, operation: str, scope: Mapping[str, str | None]
) -> Disruption:
    """Apply latency, then draw the timeout / http_error / bad_response rules for a request."""
    latency = faults.take("latency", operation, **scope)
    if latency:
        await asyncio.sleep(latency.seconds)
    return Disruption(
        timeout=faults.take("timeout", operation, **scope),
        http_error=faults.take("http_error", operation, **scope),
        bad_response=faults.take("bad_response", operation, **scope),
    )
