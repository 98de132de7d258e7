"""`StaticSupplierDirectory`: the supplier clients known at start-up, by code.

Errors::

    LookupError
     └── UnknownSupplier   -- no client for that code
"""

from __future__ import annotations

from collections.abc import Iterable

from fulfilment.ports import SupplierClient


class UnknownSupplier(LookupError):
    """No supplier client is configured for the code."""


class StaticSupplierDirectory:
    """Implements `fulfilment.ports.SupplierDirectory` over a fixed set of clients."""

    def __init__(self, clients: Iterable[SupplierClient]) -> None:
        self._clients: dict[str, SupplierClient] = {}
        for client in clients:
            if client.code in self._clients:
                raise ValueError(f"supplier code {client.code!r} configured twice")
            self._clients[client.code] = client

    def get(self, code: str) -> SupplierClient:
        """The client for `code`; raises UnknownSupplier."""
        try:
            return self._clients[code]
        except KeyError:
            raise UnknownSupplier(f"no supplier client for {code!r}") from None

    def codes(self) -> list[str]:
        """Every configured supplier code, in configuration order."""
        return list(self._clients)

    def __contains__(self, code: object) -> bool:
        return code in self._clients
