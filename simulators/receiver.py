"""A callback sink: stands in for the shop's notify endpoints in tests of the simulators.

POST /notify/{channel}          records the form; answers `success` (or fails on request)
GET  /received/{channel}        the forms received, oldest first
POST /admin/fail/{channel}      {"times": n, "status_code": 500}: fail the next n deliveries
POST /admin/reset               forget everything
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from simulators.protocol import read_form


class FailPlan(BaseModel):
    times: int = Field(default=1, ge=0, le=100)
    status_code: int = Field(default=500, ge=200, le=599)


def create_receiver_app() -> FastAPI:
    """A fresh sink."""
    app = FastAPI(title="callback sink")
    received: dict[str, list[dict[str, str]]] = {}
    failing: dict[str, FailPlan] = {}

    @app.post("/notify/{channel}")
    async def notify(channel: str, request: Request) -> PlainTextResponse:
        received.setdefault(channel, []).append(await read_form(request))
        plan = failing.get(channel)
        if plan is not None and plan.times > 0:
            plan.times -= 1
            return PlainTextResponse("fail", status_code=plan.status_code)
        return PlainTextResponse("success")

    @app.get("/received/{channel}")
    async def list_received(channel: str) -> list[dict[str, str]]:
        return received.get(channel, [])

    @app.post("/admin/fail/{channel}")
    async def fail(channel: str, plan: FailPlan) -> dict[str, int]:
        failing[channel] = plan
        return {"times": plan.times}

    @app.post("/admin/reset")
    async def reset() -> dict[str, str]:
        received.clear()
        failing.clear()
        return {"status": "reset"}

    return app
