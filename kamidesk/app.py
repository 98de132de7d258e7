"""The FastAPI application: wiring, error mapping, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from kamidesk import observability
from kamidesk.api import callbacks, errors, kb, problems, shop, staff
from kamidesk.api.deps import current_agent
from kamidesk.api.limits import BodyLimit
from kamidesk.bootstrap import Container, build
from kamidesk.settings import Settings, get_settings

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small form fields beside the key file


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """Build the app; tests and the demo pass a container, production builds from settings."""
    config = settings or (container.settings if container is not None else get_settings())
    if container is None:  # a real process (uvicorn factory, kamidesk serve), not a test
        observability.configure_logging(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        box = container or build(config)
        app.state.container, app.state.jobs = box, box.jobs
        # Built now, not on the first question: start-up pays, not a customer.
        app.state.kb = await asyncio.to_thread(lambda: box.kb)
        app.state.ops = ops = observability.Operations(box, box.jobs)
        await box.jobs.start()
        ops.start()
        try:
            yield
        finally:
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
