"""One mapping from every package's errors to HTTP, shared by all routes.

Each package draws its own error tree (`fulfilment.errors`, `nlu.errors`,
`knowledge_base.errors`, ...); this table says what each branch means to an HTTP client. The
most specific class wins. Every answer has the body `{"error": <code>, "detail": <sentence>}`
(`ErrorOut`). A fulfilment error's code is its own (`exc.code`, e.g. `exceeds_paid`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from fulfilment.errors import (
    Conflict,
    FulfilmentError,
    InvalidRequest,
    NotAllowed,
    NotFound,
    OwnershipLocked,
    TooLarge,
)
from fulfilment.ports import SignatureError
from fulfilment.suppliers.directory import UnknownSupplier
from kamidesk.api.responses import ErrorOut
from knowledge_base.errors import (
    ArticleFormatError,
    ArticleNotFound,
    FeedbackError,
    KnowledgeBaseError,
)
from nlu.errors import BackendError, NLUError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mapping:
    status: int
    error: str | None = None  # the code; with `own_code`, only when the exception has none
    detail: str | None = None  # None: the exception's message
    own_code: bool = False  # the exception's `code` names the rule (e.g. `exceeds_paid`)


ERRORS: dict[type[Exception], Mapping] = {
    FulfilmentError: Mapping(400, own_code=True),
    NotFound: Mapping(404, own_code=True),
    InvalidRequest: Mapping(422, own_code=True),
    TooLarge: Mapping(413, own_code=True),
    Conflict: Mapping(409, own_code=True),
    NotAllowed: Mapping(409, own_code=True),
    OwnershipLocked: Mapping(429, own_code=True),
    # A bad signature, or a correct one on a replayed notification (`stale_timestamp`).
    SignatureError: Mapping(401, "bad_signature", own_code=True),
    UnknownSupplier: Mapping(404, "not_found"),
    KnowledgeBaseError: Mapping(422, "invalid_request"),
    ArticleNotFound: Mapping(404, "not_found"),
    ArticleFormatError: Mapping(422, "invalid_article"),
    FeedbackError: Mapping(422, "invalid_feedback"),
    NLUError: Mapping(500, "nlu_error"),
    BackendError: Mapping(503, "nlu_unavailable"),
    # The database refused a value (NUL characters, out-of-range numbers): the caller's input,
    # and the unit of work rolled back, so nothing changed.
    DataError: Mapping(422, "invalid_value", "a value in the request cannot be stored"),
}
ROOTS = (
    FulfilmentError,
    SignatureError,
    UnknownSupplier,
    KnowledgeBaseError,
    NLUError,
    DataError,
)
# For routes' OpenAPI: the error answers every route may give.
RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (401, "no valid credentials"),
        (404, "not found"),
        (409, "conflicts with the current state, or policy forbids it"),
        (413, "more items than one request may carry"),
        (422, "malformed input; nothing changed"),
    )
}


def mapping_for(exc: Exception) -> Mapping:
    """The most specific mapping for `exc` (its class or the nearest mapped ancestor)."""
    for cls in type(exc).__mro__:
        if cls in ERRORS:
            return ERRORS[cls]
    raise LookupError(f"{type(exc).__name__} has no HTTP mapping")


def error_body(exc: Exception) -> tuple[int, dict[str, object]]:
    """Status and `{"error", "detail"}` body for a mapped exception."""
    mapped = mapping_for(exc)
    own = getattr(exc, "code", None) if mapped.own_code else None
    code = own or mapped.error or "error"
    detail = mapped.detail or getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return mapped.status, {"error": code, "detail": detail}


async def _handle(_: Request, exc: Exception) -> JSONResponse:
    status, body = error_body(exc)
    if isinstance(exc, DataError):
        log.info("refused a value the database cannot store: %s", type(exc.orig).__name__)
    elif status >= 500:
        log.error("%s answered %d: %s", type(exc).__name__, status, body["error"])
    return JSONResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    """Map every package's error root on `app`."""
    for root in ROOTS:
        app.add_exception_handler(root, _handle)
