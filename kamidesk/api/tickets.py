"""Tickets for people (staff): what the bot handed off, and why."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from desk import tickets
from kamidesk.api.deps import CurrentAgent, UowDep, no_nul_in_url

router = APIRouter(prefix="/api/v1", tags=["desk"], dependencies=[Depends(no_nul_in_url)])

Status = Literal["open", "pending_customer", "pending_supplier", "resolved", "closed"]


class TicketOut(BaseModel):
    id: int
    conversation_id: str
    order_no: str | None
    category: str
    tier: str
    priority: str
    status: str
    reason: str


@router.get("/tickets", response_model=list[TicketOut])
async def list_tickets(
    uow: UowDep,
    agent: CurrentAgent,
    conversation_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TicketOut]:
    """Tickets, newest first; filter by conversation or status."""
    rows = await run_in_threadpool(
        lambda: tickets.list_tickets(
            uow=uow, conversation_id=conversation_id, status=status, limit=limit
        )
    )
    return [TicketOut(**asdict(t)) for t in rows]
