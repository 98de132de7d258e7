"""Input the API must refuse cleanly (issue 10, items 3, 7 and 8), on both databases.

Integers stay inside their columns' range, wrong JSON types are refused instead of converted,
every error has one shape (`{"error", "detail"}`) that names the field without echoing the value,
and request bodies are capped before they are read into memory.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from fulfilment.models import AuditEntry, CardKey, Order, Payment, Product, Refund, Supplier
from knowledge_base.models import Feedback
from tests.e2e.conftest import SHOP, STAFF
from tests.e2e.test_shop_api import ORDER, PRODUCT

INT32_MAX = 2**31 - 1


@pytest.fixture
def shop(client, suppliers):
    suppliers.add("sup-a")
    assert client.post(
        "/api/v1/suppliers", json={"code": "sup-a", "name": "A"}, headers=SHOP
    ).is_success
    assert client.post("/api/v1/products", json=PRODUCT, headers=SHOP).status_code == 201
    keys = {"keys": ["AAAA-BBBB-CCCC-0001", "AAAA-BBBB-CCCC-0002"], "supplier_code": "sup-a"}
    assert client.post("/api/v1/products/STEAM-50/keys", json=keys, headers=SHOP).is_success
    return client


def _counts(container) -> tuple[int, ...]:
    with container.session_factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Supplier, Product, CardKey, Order, Payment, Refund, AuditEntry, Feedback)
        )


def _is_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "detail"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# -- item 3: integers inside their columns' range ------------------------------------------


@pytest.mark.parametrize("query_id", [2**63, 2**63 + 1, 2**31, -1, 0])
def test_a_feedback_query_id_outside_the_column_range_is_a_422_not_a_500(
    client, container, query_id
):
    before = _counts(container)
    vote = {"article_id": "invoice-en", "helpful": True, "query_id": query_id}
    body = _is_error(client.post("/api/v1/kb/feedback", json=vote, headers=STAFF), 422)
    assert "query_id" in body["detail"]
    assert _counts(container) == before


def test_the_largest_feedback_query_id_the_column_holds_is_stored(client, container):
    vote = {"article_id": "invoice-en", "helpful": True, "query_id": INT32_MAX}
    assert client.post("/api/v1/kb/feedback", json=vote, headers=STAFF).status_code == 201


def _schemas(doc: dict, schema: dict) -> list[tuple[str, dict]]:
    """(name, schema) of every property reachable from `schema`, $refs resolved."""
    found: list[tuple[str, dict]] = []
    stack = [("", schema)]
    while stack:
        name, node = stack.pop()
        if "$ref" in node:
            node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        for option in node.get("anyOf", []) + node.get("allOf", []):
            stack.append((name, option))
        if "items" in node:
            stack.append((f"{name}[]", node["items"]))
        for prop, sub in node.get("properties", {}).items():
            stack.append((prop, sub))
        found.append((name, node))
    return found


def _integer_inputs(doc: dict) -> list[tuple[str, dict]]:
    inputs = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                for name, node in _schemas(doc, param["schema"]):
                    inputs.append((f"{where} {param['name']}{name}", node))
            for media in op.get("requestBody", {}).get("content", {}).values():
                for name, node in _schemas(doc, media["schema"]):
                    inputs.append((f"{where} {name}", node))
    return [(name, node) for name, node in inputs if node.get("type") == "integer"]


def test_every_integer_input_of_every_endpoint_is_bounded_to_a_32_bit_column(client):
    # The narrowest integer column is INTEGER (32 bits on PostgreSQL); SQLite overflows at 64.
    inputs = _integer_inputs(client.get("/openapi.json").json())
    assert len(inputs) >= 8, inputs  # priority, safety_stock, quantity, unit_no, k, query_id...
    unbounded = [
        name
        for name, node in inputs
        if not (
            node.get("minimum", -(2**63)) >= -(2**31) and node.get("maximum", 2**63) <= INT32_MAX
        )
    ]
    assert unbounded == []


# -- item 8: strict types --------------------------------------------------------------------

WRONG_TYPES = [
    ("/api/v1/orders", SHOP, {**ORDER, "quantity": "1"}),
    ("/api/v1/orders", SHOP, {**ORDER, "quantity": 1.0}),
    ("/api/v1/orders", SHOP, {**ORDER, "quantity": True}),
    ("/api/v1/orders", SHOP, {**ORDER, "paid": "no"}),
    ("/api/v1/orders", SHOP, {**ORDER, "paid": 0}),
    ("/api/v1/orders", SHOP, {**ORDER, "amount": True}),
    ("/api/v1/orders", SHOP, {**ORDER, "amount": "5e1"}),
    ("/api/v1/orders", SHOP, {**ORDER, "amount": " 50.00"}),
    ("/api/v1/orders", SHOP, {**ORDER, "amount": "50.000"}),
    ("/api/v1/orders", SHOP, {**ORDER, "amount": "+50"}),
    ("/api/v1/orders", SHOP, {**ORDER, "amount": 50.001}),
    ("/api/v1/orders", SHOP, {**ORDER, "amount": [50]}),
    ("/api/v1/products", SHOP, {**PRODUCT, "sku": "P-2", "safety_stock": "0"}),
    ("/api/v1/products", SHOP, {**PRODUCT, "sku": "P-2", "price": 0.1 + 0.2}),
    (
        "/api/v1/products",
        SHOP,
        {**PRODUCT, "sku": "P-2", "suppliers": [{"code": "sup-a", "priority": "1"}]},
    ),
    ("/api/v1/suppliers", SHOP, {"code": "sup-b", "name": "B", "supports_key_check": "false"}),
    (
        "/api/v1/orders/KM2026112200017/refund",
        STAFF,
        {"request_id": "rf-1", "reason": "r", "approve": "no"},
    ),
    (
        "/api/v1/orders/KM2026112200017/refund",
        STAFF,
        {"request_id": "rf-1", "reason": "r", "amount": 1.005},
    ),
    (
        "/api/v1/orders/KM2026112200017/reissue",
        STAFF,
        {"request_id": "rq-1", "reason": "r", "override": "yes"},
    ),
    (
        "/api/v1/orders/KM2026112200017/reissue",
        STAFF,
        {"request_id": "rq-1", "reason": "r", "unit_no": "1"},
    ),
    ("/api/v1/kb/feedback", STAFF, {"article_id": "invoice-en", "helpful": "no"}),
    ("/api/v1/kb/feedback", STAFF, {"article_id": "invoice-en", "helpful": 1}),
    ("/api/v1/kb/feedback", STAFF, {"article_id": "invoice-en", "helpful": True, "query_id": "1"}),
    ("/api/v1/kb/ask", STAFF, {"question": "invoice", "k": "3"}),
]


@pytest.mark.parametrize(("path", "headers", "body"), WRONG_TYPES)
def test_a_value_of_the_wrong_json_type_is_refused_not_converted(
    shop, container, path, headers, body
):
    if "/orders/KM" in path:
        assert shop.post("/api/v1/orders", json=ORDER, headers=SHOP).status_code == 201
    before = _counts(container)
    _is_error(shop.post(path, json=body, headers=headers), 422)
    assert _counts(container) == before


@pytest.mark.parametrize("amount", ["50.00", "50", "50.0", 50, 50.0, 50.00])
def test_money_is_a_json_string_or_number_with_at_most_two_decimals(shop, amount):
    created = shop.post("/api/v1/orders", json={**ORDER, "amount": amount}, headers=SHOP)
    assert created.status_code == 201, created.text
    assert created.json()["order"]["amount"] == "50.00"


def test_a_float_amount_is_read_as_the_decimal_it_was_written_as(shop):
    product = {**PRODUCT, "sku": "P-1999", "price": 19.99, "face_value": 20}
    assert shop.post("/api/v1/products", json=product, headers=SHOP).status_code == 201
    order = {**ORDER, "sku": "P-1999", "quantity": 3, "amount": 59.97}
    created = shop.post("/api/v1/orders", json=order, headers=SHOP)
    assert created.status_code == 201, created.text
    assert created.json()["order"]["amount"] == "59.97"


# -- item 7: one error shape, no echo --------------------------------------------------------


def test_a_validation_error_has_the_documented_shape_and_names_each_field(shop):
    bad = {**ORDER, "quantity": "x", "currency": "yen!"}
    body = _is_error(shop.post("/api/v1/orders", json=bad, headers=SHOP), 422)
    assert body["error"] == "invalid_request"
    assert "quantity" in body["detail"] and "currency" in body["detail"]
    assert {f["field"] for f in body["fields"]} == {"quantity", "currency"}
    assert "yen!" not in str(body)


def test_a_key_batch_refused_for_one_nul_does_not_echo_any_key(shop, container):
    keys = [f"SECRET-KEY-{i:04d}-ZZ" for i in range(50)] + ["BAD\x00KEY-9999"]
    before = _counts(container)
    response = shop.post("/api/v1/products/STEAM-50/keys", json={"keys": keys}, headers=SHOP)
    body = _is_error(response, 422)
    assert "keys" in body["detail"]
    assert "SECRET-KEY" not in response.text and "9999" not in response.text
    assert _counts(container) == before


def test_a_huge_field_is_refused_without_sending_it_back(shop):
    response = shop.post(
        "/api/v1/products", json={**PRODUCT, "sku": "P-3", "name": "N" * 500_000}, headers=SHOP
    )
    body = _is_error(response, 422)
    assert "name" in body["detail"]
    assert len(response.content) < 2_000


def test_an_unknown_field_name_is_named_but_cut_short(shop):
    response = shop.post("/api/v1/orders", json={**ORDER, "x" * 10_000: 1}, headers=SHOP)
    _is_error(response, 422)
    assert len(response.content) < 2_000


def test_malformed_json_gets_the_same_shape(shop):
    response = shop.post(
        "/api/v1/orders",
        content=b'{"order_no": ',
        headers={**SHOP, "Content-Type": "application/json"},
    )
    assert _is_error(response, 422)["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "error"),
    [
        ("get", "/api/v1/nope", SHOP, 404, "not_found"),
        ("get", "/api/v1/orders/KM2026112200017", {}, 401, "unauthorized"),
        ("get", "/api/v1/alerts", SHOP, 403, "forbidden"),
        ("delete", "/api/v1/orders", SHOP, 405, "method_not_allowed"),
        ("get", "/api/v1/kb/articles/nope", STAFF, 404, "not_found"),
    ],
)
def test_http_errors_have_the_same_shape(shop, method, path, headers, status, error):
    response = shop.request(method.upper(), path, headers=headers)
    assert _is_error(response, status)["error"] == error
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


# -- item 7: request body size ---------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_and_changes_nothing(shop, container):
    limit = container.settings.max_body_bytes
    keys = [f"KEY-{i:08d}-PADDING-PADDING" for i in range(limit // 30 + 10)]
    before = _counts(container)
    response = shop.post("/api/v1/products/STEAM-50/keys", json={"keys": keys}, headers=SHOP)
    assert _is_error(response, 413)["error"] == "too_large"
    assert _counts(container) == before


async def test_a_streamed_body_is_cut_off_once_over_the_limit_not_read_whole(shop, container):
    # TestClient reads a body whole before the app sees it; httpx's ASGI transport streams it.
    limit = container.settings.max_body_bytes
    chunk, chunks = b"x" * 65_536, 200  # 13 MB offered, chunked (no Content-Length)
    sent = 0

    async def body():
        nonlocal sent
        for _ in range(chunks):
            sent += 1
            yield chunk

    transport = httpx.ASGITransport(app=shop.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/api/v1/orders", content=body(), headers={**SHOP, "Content-Type": "application/json"}
        )
    assert _is_error(response, 413)["error"] == "too_large"
    assert sent * len(chunk) <= limit + 2 * len(chunk)


def test_a_key_file_may_exceed_the_general_limit_up_to_its_own_cap(shop, container):
    settings = container.settings
    assert settings.max_key_file_bytes > settings.max_body_bytes
    padding = b"\n" * (settings.max_body_bytes + 1000)  # blank lines are skipped
    content = b"FILE-KEY-0000-0001\n" + padding + b"FILE-KEY-0000-0002\n"
    imported = shop.post(
        "/api/v1/products/STEAM-50/keys/file",
        files={"file": ("keys.txt", content, "text/plain")},
        headers=SHOP,
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 2


def test_a_key_file_over_its_cap_is_a_413_and_imports_nothing(shop, container):
    before = _counts(container)
    content = b"FILE-KEY-0000-0001\n" + b"\n" * (container.settings.max_key_file_bytes + 1)
    response = shop.post(
        "/api/v1/products/STEAM-50/keys/file",
        files={"file": ("keys.txt", content, "text/plain")},
        headers=SHOP,
    )
    assert _is_error(response, 413)["error"] == "too_large"
    assert _counts(container) == before


def test_an_unexpected_failure_is_a_500_in_the_same_shape_without_its_message(shop, monkeypatch):
    from kamidesk.api import shop as shop_routes

    def broken(**_: object) -> None:
        raise RuntimeError("internal detail buyer@example.com")

    monkeypatch.setattr(shop_routes.queries, "get_order", broken)
    response = shop.get(
        "/api/v1/orders/KM2026112200017", headers={**SHOP, "X-Request-ID": "r-500"}
    )
    body = _is_error(response, 500)
    assert body["error"] == "internal_error" and "r-500" in body["detail"]
    assert response.headers["X-Request-ID"] == "r-500"
    assert "buyer@example.com" not in response.text and "RuntimeError" not in response.text
