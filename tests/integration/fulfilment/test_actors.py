"""The actor the edge passes is what the audit log and the request rows record (both databases)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from fulfilment.actors import Actor
from fulfilment.models import AuditEntry, Refund
from fulfilment.services import refunds
from fulfilment.services.queries import order_history
from tests.factories import card_product, paid_order

ORDER = "KM2026113000001"
LEE = Actor.agent("lee", "Lee Ming")
BOT = Actor.system("bot")


def test_the_requester_and_the_approver_are_told_apart_in_the_audit_log(uow, suppliers):
    suppliers.add("sup-a")
    card_product(uow, keys=2)
    paid_order(uow, ORDER)
    uow.policy = replace(uow.policy, refund_auto_approve_cents=10_00)
    refunds.request_refund(
        uow=uow, order_no=ORDER, request_id="r-1", reason="customer", requested_by=BOT
    )
    refunds.approve_refund(uow=uow, request_id="r-1", approved_by=LEE)
    with uow:
        rows = uow.session.execute(
            select(
                AuditEntry.action, AuditEntry.actor, AuditEntry.actor_kind, AuditEntry.actor_name
            )
        ).all()
        refund = uow.session.scalars(select(Refund)).one()
        requested_by, decided_by = refund.requested_by, refund.decided_by
    by_action = {action: (actor, kind, name) for action, actor, kind, name in rows}
    assert by_action["refund.requested"] == ("system:bot", "system", "bot")
    assert by_action["refund.approved"] == ("agent:lee", "agent", "Lee Ming")
    assert (requested_by, decided_by) == ("system:bot", "agent:lee")
    history = order_history(uow=uow, order_no=ORDER)
    approved = next(h for h in history if h.action == "refund.approved")
    assert (approved.actor, approved.actor_kind, approved.actor_name) == (
        "agent:lee",
        "agent",
        "Lee Ming",
    )
