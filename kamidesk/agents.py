"""Who may act on the desk: agent credentials resolved to an `Actor` of kind agent.

`AgentDirectory` is the port the HTTP layer asks (`kamidesk.api.deps.CurrentAgent`). The default
implementation knows one credential, the staff API token, as the agent `staff`. The desk plugs in
its own directory (named agents with personal tokens, session cookies) through the container;
neither the services nor the routes change.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import SecretStr

from fulfilment.actors import Actor

STAFF_AGENT = Actor.agent("staff", "Staff API token")


@dataclass(frozen=True)
class Credentials:
    """What a request presented: a bearer token and its cookies (framework-free)."""

    bearer: str | None = None
    cookies: Mapping[str, str] = field(default_factory=dict)


class AgentDirectory(Protocol):
    """Resolves credentials to an agent; None when they name no agent."""

    def authenticate(self, credentials: Credentials) -> Actor | None: ...


def matches(given: str, secret: SecretStr) -> bool:
    """Constant-time comparison of a presented token with a configured one."""
    expected = secret.get_secret_value()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


class StaffTokenDirectory:
    """The default directory: the staff API token is the agent `staff`."""

    def __init__(self, staff_token: SecretStr) -> None:
        self._token = staff_token

    def authenticate(self, credentials: Credentials) -> Actor | None:
        """The staff agent for the staff token, else None."""
        if credentials.bearer is not None and matches(credentials.bearer, self._token):
            return STAFF_AGENT
        return None
