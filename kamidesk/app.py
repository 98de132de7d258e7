"""The FastAPI application: wiring, error mapping, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from bot.channels import web
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram import webhook as telegram_webhook
from kamidesk import observability
from kamidesk.api import callbacks, errors, kb, problems, shop, staff, tickets
from kamidesk.api.deps import current_agent
from kamidesk.api.limits import BodyLimit
from kamidesk.bootstrap import Container, build
from kamidesk.chatbot import build_telegram, warm_up
from kamidesk.settings import Settings, get_settings

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small form fields beside the key file


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    telegram: TelegramChannel | None = None,
) -> FastAPI:
    """Build the app; tests and the demo pass a container, production builds from settings.
    The Telegram channel runs when TELEGRAM_BOT_TOKEN is set (or one is injected)."""
    config = settings or (container.settings if container is not None else get_settings())
    if container is None:  # a real process (uvicorn factory, kamidesk serve), not a test
        observability.configure_logging(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        box = container or build(config)
        app.state.container, app.state.jobs = box, box.jobs
        # Built now, not on the first question: start-up pays, not a customer.
        app.state.kb = await asyncio.to_thread(lambda: box.kb)
        app.state.bot = await asyncio.to_thread(lambda: box.bot)
        warm_up(app.state.bot)
        app.state.telegram = telegram or build_telegram(box.settings, app.state.bot)
        app.state.ops = ops = observability.Operations(box, box.jobs)
        await box.jobs.start()
        ops.start()
        if app.state.telegram is not None:
            await app.state.telegram.start()  # connects in the background
        try:
            yield
        finally:
            if app.state.telegram is not None:
                await app.state.telegram.stop()
            ops.stop()
            await box.jobs.stop()
            if container is None:
                box.close()

    app = FastAPI(
        title="kamidesk",
        version="0.1.0",
        lifespan=lifespan,
        description="After-sales desk for digital-goods shops: shop and staff API.",
    )
    problems.install(app)
    errors.install(app)
    upload_limit = config.max_key_file_bytes + FORM_OVERHEAD
    app.add_middleware(
        BodyLimit,
        default=config.max_body_bytes,
        overrides=[(route.path_regex.pattern, upload_limit) for route in shop.uploads.routes],
    )
    app.include_router(shop.router, responses=errors.RESPONSES)
    app.include_router(shop.uploads, responses=errors.RESPONSES)
    app.include_router(staff.router, responses=errors.RESPONSES)
    app.include_router(callbacks.router, responses=errors.RESPONSES)
    app.include_router(tickets.router, responses=errors.RESPONSES)
    app.include_router(web.api, responses=errors.RESPONSES)
    app.include_router(web.page)
    app.include_router(telegram_webhook)
    # The knowledge-base admin API edits what customers are told: agents only.
    app.include_router(
        kb.router,
        prefix="/api/v1/kb",
        tags=["knowledge base"],
        dependencies=[Depends(current_agent)],
        responses=errors.RESPONSES,
    )
    observability.install(app)  # last: its middleware is the outermost

    return app
