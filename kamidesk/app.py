"""The FastAPI application: wiring, error mapping, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from kamidesk.api import callbacks, errors, kb, shop, staff
from kamidesk.api.deps import current_agent
from kamidesk.api.responses import HealthOut
from kamidesk.bootstrap import Container, build
from kamidesk.settings import Settings, get_settings


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
    app.include_router(shop.router, responses=errors.RESPONSES)
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
    errors.install(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> HealthOut:
        return HealthOut(status="ok")

    return app
