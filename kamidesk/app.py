"""The FastAPI application: wiring, error mapping, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from bot.channels import web
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram import webhook as telegram_webhook
from bot.engine import DialogueEngine
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
from kamidesk import observability
from kamidesk.api import callbacks, kb, problems, shop, staff, tickets
from kamidesk.api.deps import staff_only
from kamidesk.api.limits import BodyLimit
from kamidesk.bootstrap import Container, build
from kamidesk.chatbot import build_chatbot, build_telegram, warm_up
from kamidesk.jobs import Jobs, make_jobs
from kamidesk.settings import Settings, get_settings

log = logging.getLogger("kamidesk.app")
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small form fields beside the key file

STATUS = {
    NotFound: 404,
    InvalidRequest: 422,
    TooLarge: 413,
    Conflict: 409,
    NotAllowed: 409,
    OwnershipLocked: 429,
}


def _status_for(exc: FulfilmentError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    jobs: Jobs | None = None,
    chatbot: DialogueEngine | None = None,
    telegram: TelegramChannel | None = None,
) -> FastAPI:
    """Build the app; tests inject a container and jobs, production builds from settings.
    The Telegram channel runs when TELEGRAM_BOT_TOKEN is set (or one is injected)."""
    config = settings or (container.settings if container is not None else get_settings())
    if container is None:  # a real process (uvicorn factory, kamidesk serve), not a test
        observability.configure_logging(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        box = container or build(config)
        runner = jobs or make_jobs(box)
        app.state.container, app.state.jobs = box, runner
        app.state.bot = chatbot or build_chatbot(box)
        app.state.kb = app.state.bot.kb  # the admin API edits what the bot answers from
        if chatbot is None:
            warm_up(app.state.bot)
        app.state.telegram = telegram or build_telegram(box.settings, app.state.bot)
        app.state.ops = ops = observability.Operations(box, runner)
        await runner.start()
        ops.start()
        if app.state.telegram is not None:
            await app.state.telegram.start()  # connects in the background
        try:
            yield
        finally:
            if app.state.telegram is not None:
                await app.state.telegram.stop()
            ops.stop()
            await runner.stop()
            if container is None:
                box.close()

    app = FastAPI(
        title="kamidesk",
        version="0.1.0",
        lifespan=lifespan,
        description="After-sales desk for digital-goods shops: shop and staff API.",
    )
    problems.install(app)
    upload_limit = config.max_key_file_bytes + FORM_OVERHEAD
    app.add_middleware(
        BodyLimit,
        default=config.max_body_bytes,
        overrides=[(route.path_regex.pattern, upload_limit) for route in shop.uploads.routes],
    )
    app.include_router(shop.router)
    app.include_router(shop.uploads)
    app.include_router(staff.router)
    app.include_router(callbacks.router)
    app.include_router(tickets.router)
    app.include_router(web.api)
    app.include_router(web.page)
    app.include_router(telegram_webhook)
    # The knowledge-base admin API edits what customers are told: staff only.
    app.include_router(
        kb.router, prefix="/api/v1/kb", tags=["knowledge base"], dependencies=[Depends(staff_only)]
    )
    observability.install(app)  # last: its middleware is the outermost

    @app.exception_handler(FulfilmentError)
    async def fulfilment_error(_: Request, exc: FulfilmentError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "detail": exc.message}, status_code=_status_for(exc)
        )

    @app.exception_handler(SignatureError)
    async def signature_error(_: Request, exc: SignatureError) -> JSONResponse:
        code = getattr(exc, "code", "bad_signature")  # e.g. stale_timestamp: a replay
        return JSONResponse({"error": code, "detail": str(exc)}, status_code=401)

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

    return app
