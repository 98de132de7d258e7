"""The FastAPI application: wiring, error mapping, lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from fulfilment.errors import (
    Conflict,
    FulfilmentError,
    InvalidRequest,
    NotAllowed,
    NotFound,
    OwnershipLocked,
)
from fulfilment.ports import SignatureError
from fulfilment.suppliers.directory import UnknownSupplier
from kamidesk.api import callbacks, kb, shop, staff
from kamidesk.api.deps import current_agent
from kamidesk.bootstrap import Container, build
from kamidesk.settings import Settings, get_settings

log = logging.getLogger("kamidesk.app")

STATUS = {
    NotFound: 404,
    InvalidRequest: 422,
    Conflict: 409,
    NotAllowed: 409,
    OwnershipLocked: 429,
}


def _status_for(exc: FulfilmentError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """Build the app; tests and the demo pass a container, production builds from settings."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        box = container or build(settings or get_settings())
        app.state.container, app.state.jobs = box, box.jobs
        # Built now, not on the first question: start-up pays, not a customer.
        app.state.kb = await asyncio.to_thread(lambda: box.kb)
        await box.jobs.start()
        try:
            yield
        finally:
            await box.jobs.stop()
            if container is None:
                box.close()

    app = FastAPI(
        title="kamidesk",
        version="0.1.0",
        lifespan=lifespan,
        description="After-sales desk for digital-goods shops: shop and staff API.",
    )
    app.include_router(shop.router)
    app.include_router(staff.router)
    app.include_router(callbacks.router)
    # The knowledge-base admin API edits what customers are told: staff only.
    app.include_router(
        kb.router,
        prefix="/api/v1/kb",
        tags=["knowledge base"],
        dependencies=[Depends(current_agent)],
    )

    @app.exception_handler(FulfilmentError)
    async def fulfilment_error(_: Request, exc: FulfilmentError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "detail": exc.message}, status_code=_status_for(exc)
        )

    @app.exception_handler(SignatureError)
    async def signature_error(_: Request, exc: SignatureError) -> JSONResponse:
        return JSONResponse({"error": "bad_signature", "detail": str(exc)}, status_code=401)

    @app.exception_handler(UnknownSupplier)
    async def unknown_supplier(_: Request, exc: UnknownSupplier) -> JSONResponse:
        return JSONResponse({"error": "not_found", "detail": str(exc)}, status_code=404)

    @app.exception_handler(DataError)
    async def unstorable_value(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (NUL characters, out-of-range numbers): the caller's
        # input, and the unit of work rolled back, so nothing changed.
        log.info("refused a value the database cannot store: %s", type(exc.orig).__name__)
        return JSONResponse(
            {"error": "invalid_value", "detail": "a value in the request cannot be stored"},
            status_code=422,
        )

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
