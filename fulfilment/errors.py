"""Errors of the fulfilment core.

    FulfilmentError
    ├── NotFound                 an order / product / supplier does not exist
    ├── InvalidRequest           input is malformed or contradicts the product (nothing changed)
    │   ├── AmountMismatch       amount or currency differs from price × quantity
    │   └── TooLarge             more items than one request may carry (split it)
    ├── Conflict                 the request collides with existing state (same id, other body)
    ├── NotAllowed               policy forbids it (state, limits); `code` says which rule
    └── OwnershipLocked          too many failed ownership proofs; try later

Service functions raise these for the caller's mistakes; outcomes the business expects (a refund
needing approval, a reissue rejected because the key is fine) are returned as values instead.
"""

from __future__ import annotations


class FulfilmentError(Exception):
    """Base of every error the fulfilment services raise on purpose."""

    code = "fulfilment_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(FulfilmentError):
    code = "not_found"


class InvalidRequest(FulfilmentError):
    code = "invalid_request"


class AmountMismatch(InvalidRequest):
    code = "amount_mismatch"


class TooLarge(InvalidRequest):
    code = "too_large"


class Conflict(FulfilmentError):
    code = "conflict"


class NotAllowed(FulfilmentError):
    code = "not_allowed"


class OwnershipLocked(FulfilmentError):
    code = "ownership_locked"
