"""API defects found in review, each pinned by the test that first failed (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fulfilment.models import CardKey, Order, Product
from tests.e2e.conftest import SHOP, STAFF
from tests.e2e.test_shop_api import ORDER, PRODUCT


@pytest.fixture
def shop(client, suppliers):
    suppliers.add("sup-a")
    client.post("/api/v1/suppliers", json={"code": "sup-a", "name": "A"}, headers=SHOP)
    assert client.post("/api/v1/products", json=PRODUCT, headers=SHOP).status_code == 201
    return client


def _count(container, model) -> int:
    with container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_one_payment_transaction_for_two_orders_is_a_conflict_not_a_crash(shop, container):
    first = shop.post("/api/v1/orders", json={**ORDER, "payment_txn_id": "PAY-1"}, headers=SHOP)
    assert first.status_code == 201, first.text
    other = {**ORDER, "order_no": "KM2026112200018", "payment_txn_id": "PAY-1"}
    second = shop.post("/api/v1/orders", json=other, headers=SHOP)
    assert second.status_code == 409, second.text
    assert second.json()["error"] == "conflict"
    assert _count(container, Order) == 1


def test_a_key_file_with_an_overlong_batch_name_is_refused_cleanly(shop, container):
    response = shop.post(
        "/api/v1/products/STEAM-50/keys/file",
        files={"file": ("keys.txt", b"AAAA-BBBB-CCCC-0009\n", "text/plain")},
        data={"batch": "b" * 65},
        headers=SHOP,
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    assert _count(container, CardKey) == 0


NUL_REQUESTS = [
    ("get", "/api/v1/products/%00", None),
    ("get", "/api/v1/orders/KM%00", None),
    ("post", "/api/v1/suppliers", {"code": "sup-b", "name": "B\x00"}),
    ("post", "/api/v1/products", {**PRODUCT, "sku": "P-2", "name": "Steam\x00"}),
    ("post", "/api/v1/orders", {**ORDER, "order_no": "KM20261122", "buyer_email": "a\x00@b.cc"}),
    ("post", "/api/v1/orders/KM2026112200017/refund", {"request_id": "r-1", "reason": "x\x00"}),
    ("post", "/api/v1/refunds/r%00/approve", None),
]


@pytest.mark.parametrize(("method", "path", "body"), NUL_REQUESTS)
def test_a_nul_character_in_input_is_a_clear_4xx_on_every_database(
    shop, container, method, path, body
):
    # PostgreSQL text cannot hold NUL: it used to surface as a 500 there (SQLite stored it).
    assert shop.post("/api/v1/orders", json=ORDER, headers=SHOP).status_code == 201
    before = _count(container, Order), _count(container, Product)
    response = shop.request(method.upper(), path, json=body, headers=STAFF)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]
    assert (_count(container, Order), _count(container, Product)) == before


def test_a_nul_character_in_a_key_file_form_field_is_a_clear_4xx(shop):
    response = shop.post(
        "/api/v1/products/STEAM-50/keys/file",
        files={"file": ("keys.txt", b"AAAA-BBBB-CCCC-0009\n", "text/plain")},
        data={"supplier_code": "sup\x00a"},
        headers=SHOP,
    )
    assert response.status_code == 422, response.text
