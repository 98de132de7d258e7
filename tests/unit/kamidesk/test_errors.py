"""One mapping from every package's errors to HTTP, shared by every route."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DataError

from fulfilment.errors import (
    AmountMismatch,
    Conflict,
    FulfilmentError,
    InvalidRequest,
    NotAllowed,
    NotFound,
    OwnershipLocked,
)
from fulfilment.ports import SignatureError
from fulfilment.suppliers.directory import UnknownSupplier
from kamidesk.api import errors
from knowledge_base.errors import ArticleFormatError, ArticleNotFound, FeedbackError
from nlu.errors import RasaAuthError, RasaUnavailableError, TrainingDataError

CASES = [
    (NotFound("no order 'KM1'"), 404, "not_found"),
    (InvalidRequest("bad"), 422, "invalid_request"),
    (AmountMismatch("amount differs"), 422, "amount_mismatch"),
    (Conflict("same id, other body"), 409, "conflict"),
    (NotAllowed("more than paid", code="exceeds_paid"), 409, "exceeds_paid"),
    (OwnershipLocked("try later"), 429, "ownership_locked"),
    (FulfilmentError("other"), 400, "fulfilment_error"),
    (SignatureError("forged"), 401, "bad_signature"),
    (UnknownSupplier("no client for 'x'"), 404, "not_found"),
    (ArticleNotFound("nope"), 404, "not_found"),
    (ArticleFormatError("no title"), 422, "invalid_article"),
    (FeedbackError("unknown article"), 422, "invalid_feedback"),
    (RasaUnavailableError("down"), 503, "nlu_unavailable"),
    (RasaAuthError("token refused"), 503, "nlu_unavailable"),
    (TrainingDataError("bad yaml"), 500, "nlu_error"),
]


@pytest.mark.parametrize(("exc", "status", "code"), CASES, ids=lambda v: type(v).__name__)
def test_each_error_maps_to_its_status_and_code(exc, status, code):
    got_status, body = errors.error_body(exc)
    assert (got_status, body["error"]) == (status, code)
    assert body["detail"]


def test_a_value_the_database_refused_says_so_without_the_sql():
    exc = DataError("INSERT INTO orders VALUES ('secret\x00')", {}, ValueError("NUL"))
    status, body = errors.error_body(exc)
    assert (status, body["error"]) == (422, "invalid_value")
    assert "INSERT" not in str(body) and "secret" not in str(body)


def test_an_error_of_no_package_is_not_mapped():
    with pytest.raises(LookupError):
        errors.mapping_for(KeyError("x"))


async def test_every_root_is_answered_with_the_same_body_by_an_app():
    app = FastAPI()
    errors.install(app)
    raised = {f"/{i}": exc for i, (exc, _, _) in enumerate(CASES)}
    for path, exc in raised.items():
        app.add_api_route(path, _raiser(exc))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for (path, _), (_, status, code) in zip(raised.items(), CASES, strict=True):
            answer = await client.get(path)
            assert answer.status_code == status
            assert set(answer.json()) == {"error", "detail"} and answer.json()["error"] == code


def _raiser(exc: Exception):  # type: ignore[no-untyped-def]
    async def route() -> None:
        raise exc

    return route
