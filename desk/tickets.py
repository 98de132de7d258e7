"""Opening and listing tickets.

One open ticket per conversation: a second handoff in the same conversation (the customer asks
for a person again) adds to the open ticket instead of creating another.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.engine import HandoffRequest
from desk.models import Priority, Ticket, TicketStatus, Tier
from fulfilment.uow import UnitOfWork

ACTIVE = (TicketStatus.OPEN, TicketStatus.PENDING_CUSTOMER, TicketStatus.PENDING_SUPPLIER)


@dataclass(frozen=True)
class TicketView:
    id: int
    conversation_id: str
    order_no: str | None
    category: str
    tier: str
    priority: str
    status: str
    reason: str


def _view(t: Ticket) -> TicketView:
    return TicketView(
        t.id, t.conversation_id, t.order_no, t.category, t.tier, t.priority, t.status, t.reason
    )


def open_ticket(uow: UnitOfWork, request: HandoffRequest) -> int:
    """Open a ticket for a handoff inside the caller's transaction; returns its id."""
    existing = uow.session.scalars(
        select(Ticket).where(
            Ticket.conversation_id == request.conversation_id, Ticket.status.in_(ACTIVE)
        )
    ).first()
    now = uow.clock()
    if existing is not None:
        if request.priority == Priority.HIGH:
            existing.priority = Priority.HIGH
        existing.order_no = existing.order_no or request.order_no
        existing.details = {**(existing.details or {}), **request.details}
        existing.updated_at = now
        return existing.id
    ticket = Ticket(
        conversation_id=request.conversation_id,
        channel=request.channel,
        order_no=request.order_no,
        category=request.category,
        tier=Tier.L2,
        priority=request.priority if request.priority in set(Priority) else Priority.NORMAL,
        status=TicketStatus.OPEN,
        reason=request.reason[:200],
        customer_name=request.customer_name,
        language=request.language,
        details=dict(request.details),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(ticket)
    uow.session.flush()
    return ticket.id


def list_tickets(
    *,
    uow: UnitOfWork,
    conversation_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[TicketView]:
    """Tickets, newest first, optionally for one conversation or in one status."""
    with uow:
        query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
        if conversation_id:
            query = query.where(Ticket.conversation_id == conversation_id)
        if status:
            query = query.where(Ticket.status == status)
        return [_view(t) for t in uow.session.scalars(query)]


def rate(uow: UnitOfWork, conversation_id: str, score: int) -> None:
    """The customer's 1-5 rating of the help on their latest ticket (CSAT)."""
    ticket = uow.session.scalars(
        select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id.desc())
    ).first()
    if ticket is not None:
        ticket.details = {**(ticket.details or {}), "csat": score}
