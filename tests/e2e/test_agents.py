"""Agents through the API: the staff token is one agent credential; other directories plug in."""

from __future__ import annotations

from fulfilment.actors import Actor
from kamidesk.agents import Credentials
from tests.e2e.conftest import SHOP, STAFF
from tests.e2e.test_shop_api import ORDER, PRODUCT


class PersonalTokens:
    """What the desk will plug in: named agents with their own tokens (and a session cookie)."""

    def __init__(self) -> None:
        self.agents = {"tok-alice": Actor.agent("alice", "Alice Wang")}

    def authenticate(self, credentials: Credentials) -> Actor | None:
        if credentials.cookies.get("desk_session") == "s-bob":
            return Actor.agent("bob", "Bob Li")
        return self.agents.get(credentials.bearer or "")


def _shop(client, suppliers):
    suppliers.add("sup-a")
    client.post("/api/v1/suppliers", json={"code": "sup-a", "name": "A"}, headers=SHOP)
    client.post("/api/v1/products", json=PRODUCT, headers=SHOP)
    client.post("/api/v1/products/STEAM-50/keys", json={"keys": ["K-0001-WXYZ"]}, headers=SHOP)
    assert client.post("/api/v1/orders", json=ORDER, headers=SHOP).status_code == 201


def test_a_staff_action_is_audited_as_the_staff_agent(client, suppliers):
    _shop(client, suppliers)
    client.post(f"/api/v1/orders/{ORDER['order_no']}/deliver", headers=STAFF)
    history = client.get(f"/api/v1/orders/{ORDER['order_no']}/history", headers=STAFF).json()
    created = next(h for h in history if h["action"] == "order.created")
    delivered = next(h for h in history if h["action"] == "order.keys_delivered")
    assert (created["actor"], created["actor_kind"]) == ("shop:shop", "shop")
    assert (delivered["actor"], delivered["actor_kind"], delivered["actor_name"]) == (
        "agent:staff",
        "agent",
        "Staff API token",
    )


def test_named_agents_from_another_directory_act_under_their_own_names(
    container, client, suppliers
):
    container.agents = PersonalTokens()
    _shop(client, suppliers)
    alice = {"Authorization": "Bearer tok-alice"}
    path = f"/api/v1/orders/{ORDER['order_no']}"
    assert client.post(f"{path}/deliver", headers=alice).status_code == 200
    client.cookies.set("desk_session", "s-bob")
    answered = client.post(f"{path}/refund", json={"request_id": "r-1", "reason": "x"})
    client.cookies.clear()
    assert answered.status_code == 200, answered.text  # bob may ask; the policy answered
    history = client.get(f"{path}/history", headers=alice).json()
    actors = {h["action"]: (h["actor"], h["actor_name"]) for h in history}
    assert actors["order.keys_delivered"] == ("agent:alice", "Alice Wang")
    assert actors["refund.rejected"] == ("agent:bob", "Bob Li")
    # The staff token is no agent in this directory; the shop token is still the shop only.
    assert client.post(f"{path}/deliver", headers=STAFF).status_code == 401
    assert client.post(f"{path}/deliver", headers=SHOP).status_code == 403
