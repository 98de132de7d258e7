"""Limits on what one customer (or one address) may try, on top of the fulfilment core's own
ownership lock-out.

A web client can open new conversations at will, so failed proofs are limited per conversation,
per Telegram user and per client IP, and new conversations per client IP. Built on the `limits`
library (moving windows in memory, or in Redis when REDIS_URL is set so every app process
shares the counts).
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class GuardLimits:
    failed_proofs_per_conversation: str = "5/15 minutes"
    failed_proofs_per_user: str = "5/15 minutes"  # a Telegram user, across their chats
    failed_proofs_per_ip: str = "10/hour"
    conversations_per_ip: str = "30/10 minutes"
    messages_per_conversation: str = "40/minute"


class Guard:
    """Counts what a customer does; `allowed_*` asks without counting, `count_*` records."""

    def __init__(self, storage_uri: str = "memory://", limits: GuardLimits | None = None) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        cfg = limits or GuardLimits()
        self._proof: dict[str, RateLimitItem] = {
            "conversation": parse(cfg.failed_proofs_per_conversation),
            "user": parse(cfg.failed_proofs_per_user),
            "ip": parse(cfg.failed_proofs_per_ip),
        }
        self._new_conversation = parse(cfg.conversations_per_ip)
        self._message = parse(cfg.messages_per_conversation)

    def may_prove(self, scopes: dict[str, str | None]) -> bool:
        """Whether another proof may be tried: `scopes` maps conversation/user/ip -> id."""
        return all(
            self._limiter.test(self._proof[scope], "proof", scope, value)
            for scope, value in scopes.items()
            if value
        )

    def failed_proof(self, scopes: dict[str, str | None]) -> None:
        for scope, value in scopes.items():
            if value:
                self._limiter.hit(self._proof[scope], "proof", scope, value)

    def new_conversation(self, ip: str | None) -> bool:
        """Count a new conversation from `ip`; False when over the limit."""
        return ip is None or self._limiter.hit(self._new_conversation, "conv", ip)

    def message(self, conversation_id: str) -> bool:
        """Count a message; False when the conversation writes too fast."""
        return self._limiter.hit(self._message, "msg", conversation_id)
