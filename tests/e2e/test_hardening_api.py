"""Issue 10 through the API: key imports (conflicts, case, size) and free text with keys."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fulfilment.models import CardKey
from tests.e2e.conftest import SHOP
from tests.e2e.test_shop_api import PRODUCT

KEYS = ["AAAA-BBBB-CCCC-0001", "AAAA-BBBB-CCCC-0002"]


@pytest.fixture
def shop(client, suppliers):
    suppliers.add("sup-a")
    client.post("/api/v1/suppliers", json={"code": "sup-a", "name": "A"}, headers=SHOP)
    assert client.post("/api/v1/products", json=PRODUCT, headers=SHOP).status_code == 201
    other = {**PRODUCT, "sku": "STEAM-100", "keys_case_sensitive": False}
    assert client.post("/api/v1/products", json=other, headers=SHOP).status_code == 201
    return client


def stored(container) -> int:
    with container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(CardKey)) or 0


def test_keys_of_another_product_are_a_409_naming_them_masked(shop, container):
    assert (
        shop.post("/api/v1/products/STEAM-50/keys", json={"keys": KEYS}, headers=SHOP).json()[
            "imported"
        ]
        == 2
    )
    answer = shop.post(
        "/api/v1/products/STEAM-100/keys/file",
        files={"file": ("keys.txt", "\n".join(["NEW-KEY-0003-ABCD", *KEYS]).encode())},
        headers=SHOP,
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "duplicate_keys"
    assert "****0001" in answer.json()["detail"] and "****0002" in answer.json()["detail"]
    assert "AAAA-BBBB" not in answer.text
    assert stored(container) == 2


def test_the_case_setting_is_shown_and_decides_what_a_duplicate_is(shop):
    exact = shop.get("/api/v1/products/STEAM-50", headers=SHOP).json()
    loose = shop.get("/api/v1/products/STEAM-100", headers=SHOP).json()
    assert (exact["keys_case_sensitive"], loose["keys_case_sensitive"]) == (True, False)
    keys = {"keys": ["abcd-efgh-2345-wxyz", "ABCD-EFGH-2345-WXYZ"]}
    assert (
        shop.post("/api/v1/products/STEAM-50/keys", json=keys, headers=SHOP).json()["imported"]
        == 2
    )
    spare = {"keys": ["qrst-uvwx-6789-abcd", "QRST-UVWX-6789-ABCD"]}
    assert (
        shop.post("/api/v1/products/STEAM-100/keys", json=spare, headers=SHOP).json()["duplicates"]
        == 1
    )


def test_a_key_file_with_more_keys_than_one_request_may_carry_is_a_413(shop, container):
    lines = "\n".join(f"BULK-{n:06d}-WXYZ" for n in range(10_001)).encode()
    answer = shop.post(
        "/api/v1/products/STEAM-50/keys/file", files={"file": ("keys.txt", lines)}, headers=SHOP
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "too_many_keys"
    assert "kamidesk keys import" in answer.json()["detail"]
    assert stored(container) == 0


def test_the_order_history_never_serves_a_key_pasted_into_a_reason(shop, suppliers, jobs):
    from fulfilment.ports import KeyCheckResult, KeyCheckStatus
    from tests.e2e.conftest import STAFF
    from tests.e2e.test_shop_api import ORDER

    shop.post("/api/v1/products/STEAM-50/keys", json={"keys": KEYS}, headers=SHOP)
    shop.post("/api/v1/orders", json=ORDER, headers=SHOP)
    order = ORDER["order_no"]
    assert shop.post(f"/api/v1/orders/{order}/deliver", headers=STAFF).status_code == 200
    suppliers.get("sup-a").default_check = KeyCheckResult(KeyCheckStatus.UNUSED)
    for path, body in (
        ("reissue", {"request_id": "rq-1", "reason": f"customer sent {KEYS[0]} twice"}),
        ("refund", {"request_id": "rf-1", "reason": f"refund {KEYS[0]}", "approve": True}),
    ):
        assert shop.post(f"/api/v1/orders/{order}/{path}", json=body, headers=STAFF).is_success
    history = shop.get(f"/api/v1/orders/{order}/history", headers=STAFF)
    assert history.status_code == 200
    assert "customer sent ****0001 twice" in history.text
    assert "AAAA-BBBB" not in history.text
