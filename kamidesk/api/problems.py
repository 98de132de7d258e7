"""One error shape for every refusal: `{"error": code, "detail": text}`.

FastAPI's defaults answer `{"detail": [...]}` and echo the submitted value in every item (a 5 MB
field came back whole; a key batch refused for one NUL sent every plaintext key back). Here an
invalid request names each field and says why, never the value, and adds `fields`
(`[{"field", "problem"}]`) for programs; HTTP errors (unknown route, 401, 403, 405, 413) get a
code too. Business errors are mapped where their packages are (`kamidesk.app`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}
MAX_PROBLEMS = 10  # a 10,000-key batch with 10,000 bad keys still answers in a few lines
MAX_NAME = 60  # field names can be input too (an unknown key of 10,000 characters)
MAX_REASON = 200
LOCATIONS = ("query", "path", "header", "cookie")


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The body of every error answer."""
    return {"error": code, "detail": detail, **extra}


def _cut(text: str, limit: int) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_name(loc: Sequence[Any]) -> str:
    """`("body", "suppliers", 0, "priority")` -> `suppliers[0].priority`; `query.k`."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + _cut(str(part), MAX_NAME)
    return name or "body"


def _problem(error: Mapping[str, Any]) -> dict[str, str]:
    if error.get("type") == "json_invalid":
        # loc is ("body", position): the body is not JSON at all.
        return {"field": "body", "problem": "the body is not valid JSON"}
    reason = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return {"field": field_name(error.get("loc", ())), "problem": _cut(reason, MAX_REASON)}


def describe(errors: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """A one-line summary and the per-field list, without any submitted value."""
    fields: list[dict[str, str]] = []
    for error in errors:
        problem = _problem(error)
        if problem not in fields:
            fields.append(problem)
    shown = fields[:MAX_PROBLEMS]
    detail = "; ".join(f"{p['field']}: {p['problem']}" for p in shown)
    if len(fields) > len(shown):
        detail += f"; and {len(fields) - len(shown)} more"
    return detail, shown


async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """422 naming each field and why, never its value."""
    assert isinstance(exc, RequestValidationError)
    detail, fields = describe(exc.errors())
    return JSONResponse(error_body("invalid_request", detail, fields=fields), status_code=422)


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    """Starlette/FastAPI HTTP errors (ours and the router's) in the common shape."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else None
    body = error_body(CODES.get(status, f"http_{status}"), detail or HTTPStatus(status).phrase)
    return JSONResponse(body, status_code=status, headers=exc.headers)


def install(app: FastAPI) -> None:
    """Answer validation and HTTP errors with the common shape."""
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
