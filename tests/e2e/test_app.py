"""The application as a whole: start-up wiring and the documented API."""

from __future__ import annotations

from tests.e2e.conftest import STAFF


def test_the_knowledge_base_is_the_containers_and_is_ready_at_start_up(client, container):
    assert client.app.state.kb is container.kb
    assert client.app.state.jobs is container.jobs
    asked = client.post("/api/v1/kb/ask", json={"question": "发票怎么开"}, headers=STAFF)
    assert asked.status_code == 200 and asked.json()["confident"] is True


def _schema(spec, ref_or_schema):  # type: ignore[no-untyped-def]
    ref = ref_or_schema.get("$ref")
    if ref:
        return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return ref_or_schema


def test_openapi_documents_every_answer_of_every_route(client):
    spec = client.get("/openapi.json").json()
    undocumented = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ok = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
            if not ok:
                undocumented.append(f"{method} {path}: no 2xx answer")
            for code, answer in ok.items():
                if code == "204":
                    continue
                contents = answer.get("content", {})
                schema = next(iter(contents.values()), {}).get("schema", {})
                resolved = _schema(spec, schema)
                if (
                    not resolved
                    or resolved == {}
                    or (resolved.get("type") == "object" and not resolved.get("properties"))
                ):
                    undocumented.append(f"{method} {path} {code}: {schema}")
    assert undocumented == []


def test_openapi_names_the_enums_the_money_format_and_the_error_body(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    order = schemas["OrderOut"]["properties"]
    assert _schema(spec, order["status"])["enum"] == [
        "created",
        "paid",
        "delivering",
        "delivered",
        "failed",
        "refunding",
        "refunded",
        "cancelled",
    ]
    assert order["amount"]["pattern"] == r"^\d+\.\d{2}$"
    assert "key_bad" in _schema(spec, schemas["ReissueOut"]["properties"]["code"])["enum"]
    assert "over_auto_limit" in _schema(spec, schemas["RefundOut"]["properties"]["code"])["enum"]
    refund = spec["paths"]["/api/v1/orders/{order_no}/refund"]["post"]["responses"]
    assert (
        _schema(spec, refund["409"]["content"]["application/json"]["schema"])
        == schemas["ErrorOut"]
    )
    assert set(schemas["ErrorOut"]["properties"]) == {"error", "detail"}


def test_answers_keep_the_json_they_always_had(client, suppliers):
    from tests.e2e.conftest import SHOP
    from tests.e2e.test_shop_api import ORDER, PRODUCT

    suppliers.add("sup-a")
    client.post("/api/v1/suppliers", json={"code": "sup-a", "name": "A"}, headers=SHOP)
    client.post("/api/v1/products", json=PRODUCT, headers=SHOP)
    client.post("/api/v1/products/STEAM-50/keys", json={"keys": ["K-0001-WXYZ"]}, headers=SHOP)
    taken = client.post("/api/v1/orders", json=ORDER, headers=SHOP).json()
    assert set(taken) == {"created", "order"}
    order = taken["order"]
    assert (order["amount"], order["paid"], order["status"]) == ("50.00", "50.00", "paid")
    assert order["created_at"].endswith("+00:00")  # isoformat, as before response models
    delivered = client.post(f"/api/v1/orders/{ORDER['order_no']}/deliver", headers=STAFF).json()
    assert delivered == {
        "order_no": ORDER["order_no"],
        "status": "delivered",
        "delivered_units": 1,
        "quantity": 1,
        "message": "",
    }
