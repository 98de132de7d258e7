"""The web chat's public API through the app (both databases)."""

from __future__ import annotations

from fulfilment.ports import KeyCheckStatus
from tests.e2e.conftest import STAFF
from tests.integration.bot.shop import (
    EMAIL,
    KEY_ORDER,
    delivered_key,
    key_shop,
    mark_key,
    reissues,
)


def _start(client, **user) -> str:  # type: ignore[no-untyped-def]
    body = {"user": user} if user else None
    response = client.post("/api/v1/chat/conversations", json=body)
    assert response.status_code == 201, response.text
    return response.json()["conversation_id"]


def _send(client, cid: str, **msg) -> dict:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/chat/messages", json={"conversation_id": cid, **msg})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_customer_gets_a_new_key_through_the_web_chat(client, uow, suppliers):
    supplier, _ = key_shop(uow, suppliers)
    old = delivered_key(uow)
    mark_key(supplier, old, KeyCheckStatus.INVALID)
    cid = _start(client, name="Li", language="zh-CN")
    first = _send(client, cid, text=f"订单{KEY_ORDER}的卡密无效")
    assert first["conversation_id"] == cid
    assert "邮箱" in first["replies"][0]["text"]
    confirm = _send(client, cid, text=EMAIL)
    yes = next(
        b["payload"] for r in confirm["replies"] for b in r["buttons"] if "确定" in b["title"]
    )
    done = _send(client, cid, payload=yes)
    new = delivered_key(uow)
    assert new != old and any(new in r["text"] for r in done["replies"])
    assert reissues(uow, "reissued") == 1
    listed = client.get(f"/api/v1/chat/conversations/{cid}/messages").json()
    senders = [m["from"] for m in listed["messages"]]
    assert senders[0] == "customer" and "bot" in senders
    assert not any(new in m["text"] for m in listed["messages"]), "the transcript masks keys"
    later = client.get(f"/api/v1/chat/conversations/{cid}/messages?after={listed['cursor']}")
    assert later.json() == {"messages": [], "cursor": listed["cursor"]}


def test_bad_chat_input_is_refused_and_changes_nothing(client):
    cid = _start(client)
    for body in (
        {"conversation_id": cid, "text": ""},
        {"conversation_id": cid, "text": "   "},
        {"conversation_id": cid, "text": "x" * 2001},
        {"conversation_id": cid},
        {"conversation_id": cid, "text": "hi", "payload": "abc"},
        {"conversation_id": cid, "text": "hi", "extra": 1},
    ):
        assert client.post("/api/v1/chat/messages", json=body).status_code == 422, body
    unknown = {"conversation_id": "x" * 32, "text": "hi"}
    assert client.post("/api/v1/chat/messages", json=unknown).status_code == 404
    assert client.get("/api/v1/chat/conversations/nope/messages").status_code == 404
    assert client.get(f"/api/v1/chat/conversations/{cid}/messages").json()["messages"] == []


def test_new_conversations_are_limited_per_address(client):
    codes = [client.post("/api/v1/chat/conversations").status_code for _ in range(32)]
    assert codes[:30] == [201] * 30 and codes[-1] == 429


def test_a_handoff_is_a_ticket_staff_can_list(client):
    cid = _start(client, language="en")
    _send(client, cid, text="let me talk to a human please")
    tickets = client.get(f"/api/v1/tickets?conversation_id={cid}", headers=STAFF)
    assert tickets.status_code == 200
    (ticket,) = tickets.json()
    assert ticket["category"] == "human_agent" and ticket["status"] == "open"
    assert ticket["tier"] == "L2"
    assert client.get("/api/v1/tickets").status_code == 401
