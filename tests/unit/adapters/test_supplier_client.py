"""HttpSupplierClient against httpx.MockTransport: every answer maps to a port result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest

from fulfilment.keyvault import mask
from fulfilment.ports import KeyCheckStatus, SignatureError, SupplierOutcome
from fulfilment.suppliers.directory import StaticSupplierDirectory, UnknownSupplier
from fulfilment.suppliers.http import HttpSupplierClient
from fulfilment.suppliers.signing import MalformedCallback, signed, verify

SECRET = "s3cret"
KEY = "ABCD-EFGH-JKLM-NPQR"
Handler = Callable[[httpx.Request], httpx.Response]
CALLBACK_TIME = 1795366320


def envelope(code: str = "0000", msg: str = "ok", **data: object) -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": msg, "data": data or None})


def make_client(handler: Handler, **kwargs: object) -> HttpSupplierClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    options: dict[str, object] = {
        "code": "sup-x",
        "base_url": "http://supplier.test/s/sup-x/",
        "merchant_id": "m1",
        "secret": SECRET,
        "notify_url": "http://shop.test/cb",
        "client": http,
        "clock": lambda: CALLBACK_TIME,  # when `callback()` below was signed
        **kwargs,
    }
    return HttpSupplierClient(**options)  # type: ignore[arg-type]


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def submit(client: HttpSupplierClient, ref: str = "R1"):
    return client.submit_topup(
        request_ref=ref, product_code="CM10", account="13800138000", amount_cents=1000
    )


def test_submit_posts_a_signed_form_with_the_amount_in_yuan() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return envelope(order_id="R1", supplier_order_id="S1", status="processing")

    result = submit(make_client(handler))

    assert result.outcome is SupplierOutcome.ACCEPTED
    assert result.supplier_ref == "S1"
    (request,) = seen
    assert str(request.url) == "http://supplier.test/s/sup-x/api/topup/submit"
    params = form(request)
    assert verify(params, SECRET)
    assert params["amount"] == "10.00"
    assert params["order_id"] == "R1"
    assert params["merchant_id"] == "m1"
    assert params["notify_url"] == "http://shop.test/cb"
    assert params["timestamp"].isdigit()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("processing", SupplierOutcome.ACCEPTED),
        ("success", SupplierOutcome.SUCCESS),
        ("failed", SupplierOutcome.FAILED),
        ("weird", SupplierOutcome.UNKNOWN),
    ],
)
def test_submit_maps_the_order_status(status: str, outcome: SupplierOutcome) -> None:
    client = make_client(lambda _r: envelope(order_id="R1", supplier_order_id="S", status=status))
    assert submit(client).outcome is outcome


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("1001", SupplierOutcome.FAILED),  # bad parameter: nothing created
        ("1002", SupplierOutcome.FAILED),  # unknown merchant
        ("1003", SupplierOutcome.FAILED),  # bad signature
        ("1004", SupplierOutcome.FAILED),  # stale timestamp
        ("2002", SupplierOutcome.FAILED),  # supplier refuses the account/product
        ("2001", SupplierOutcome.UNKNOWN),  # same ref exists with other data: don't fail over
        ("9999", SupplierOutcome.UNKNOWN),  # "busy": may or may not have been created
        ("7777", SupplierOutcome.UNKNOWN),  # a code we do not know
    ],
)
def test_submit_maps_error_codes_to_failed_only_when_nothing_was_created(
    code: str, outcome: SupplierOutcome
) -> None:
    result = submit(make_client(lambda _r: envelope(code, msg="nope")))
    assert result.outcome is outcome
    assert result.message == f"{code}: nope"


def raise_(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    "handler",
    [
        raise_(httpx.ReadTimeout("slow")),
        raise_(httpx.ConnectError("refused")),
        raise_(httpx.RemoteProtocolError("reset")),
        lambda _r: httpx.Response(502, text="<html>bad gateway</html>"),
        lambda _r: httpx.Response(500, json={"code": "0000", "data": {"status": "success"}}),
        lambda _r: httpx.Response(200, text="<html>maintenance</html>"),
        lambda _r: httpx.Response(200, json={"msg": "no code"}),
        lambda _r: httpx.Response(200, json=["not", "an", "object"]),
        lambda _r: httpx.Response(200, json={"code": "0000", "data": "oops"}),
        lambda _r: httpx.Response(200, content=b"\xff\xfe"),
        lambda _r: envelope(order_id="OTHER", supplier_order_id="S", status="success"),
    ],
    ids=[
        "timeout", "connect", "protocol", "502", "500-json", "html", "no-code", "list",
        "data-not-object", "binary", "other-order",
    ],
)  # fmt: skip
def test_submit_and_query_give_unknown_when_there_is_no_trustworthy_answer(
    handler: Handler,
) -> None:
    client = make_client(handler)
    assert submit(client).outcome is SupplierOutcome.UNKNOWN
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.UNKNOWN


def test_a_malformed_base_url_gives_unknown_instead_of_raising() -> None:
    client = HttpSupplierClient(
        code="x", base_url="not a url at all", merchant_id="m", secret="s", timeout=0.1
    )
    with client:
        assert submit(client).outcome is SupplierOutcome.UNKNOWN


def test_query_maps_not_found_and_treats_other_errors_as_unknown() -> None:
    assert (
        make_client(lambda _r: envelope("3001")).query_topup(request_ref="R1").outcome
        is SupplierOutcome.NOT_FOUND
    )
    # A signature error on a query says nothing about the order: unknown, not failed.
    assert (
        make_client(lambda _r: envelope("1003")).query_topup(request_ref="R1").outcome
        is SupplierOutcome.UNKNOWN
    )


def test_query_reports_success_with_the_supplier_ref() -> None:
    client = make_client(
        lambda _r: envelope(order_id="R1", supplier_order_id="S9", status="success")
    )
    result = client.query_topup(request_ref="R1")
    assert (result.outcome, result.supplier_ref) == (SupplierOutcome.SUCCESS, "S9")


def test_check_key_parses_used_at_as_beijing_time() -> None:
    client = make_client(lambda _r: envelope(status="used", used_at="2026-11-22 20:15:00"))
    result = client.check_key(product_code="G1", key=KEY)
    assert result.status is KeyCheckStatus.USED
    assert result.used_at == datetime(2026, 11, 22, 12, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (envelope(status="unused", used_at=""), KeyCheckStatus.UNUSED),
        (envelope(status="invalid"), KeyCheckStatus.INVALID),
        (envelope("4001", msg="not supported"), KeyCheckStatus.UNSUPPORTED),
        (envelope("1003"), KeyCheckStatus.UNKNOWN),
        (envelope(status="maybe"), KeyCheckStatus.UNKNOWN),
        (httpx.Response(503), KeyCheckStatus.UNKNOWN),
    ],
)
def test_check_key_maps_answers(response: httpx.Response, status: KeyCheckStatus) -> None:
    assert make_client(lambda _r: response).check_key(product_code="G1", key=KEY).status is status


def test_check_key_is_unsupported_without_a_request_when_configured_so() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    client = make_client(handler, supports_key_check=False)
    assert client.check_key(product_code="G1", key=KEY).status is KeyCheckStatus.UNSUPPORTED


def test_card_keys_are_never_logged_nor_put_into_results(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sent: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(form(request))
        return envelope(status="invalid")

    result = make_client(handler).check_key(product_code="G1", key=KEY)

    assert sent[0]["card_key"] == KEY  # the supplier does get it
    assert KEY not in caplog.text
    assert "EFGH" not in caplog.text
    assert mask(KEY) in caplog.text
    assert KEY not in result.message


def test_mask_shows_only_the_last_four_characters_of_long_keys() -> None:
    assert mask(KEY) == "****NPQR"
    assert mask("SHORT") == "****"


def callback(**changes: str) -> dict[str, str]:
    params = {
        "merchant_id": "m1",
        "order_id": "R1",
        "supplier_order_id": "S1",
        "status": "success",
        "amount": "10.00",
        "message": "ok",
        "timestamp": str(CALLBACK_TIME),
    }
    return signed({**params, **changes}, SECRET)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("success", SupplierOutcome.SUCCESS),
        ("failed", SupplierOutcome.FAILED),
        ("processing", SupplierOutcome.ACCEPTED),
    ],
)
def test_parse_callback_decodes_a_signed_notification(
    status: str, outcome: SupplierOutcome
) -> None:
    result = make_client(lambda _r: envelope()).parse_callback(callback(status=status))
    assert (result.request_ref, result.outcome, result.supplier_ref) == ("R1", outcome, "S1")


def test_parse_callback_rejects_a_bad_signature_and_another_merchant() -> None:
    client = make_client(lambda _r: envelope())
    with pytest.raises(SignatureError):
        client.parse_callback({**callback(), "status": "failed"})
    with pytest.raises(SignatureError):
        client.parse_callback(signed({**callback(), "merchant_id": "m2"}, SECRET))
    with pytest.raises(SignatureError):
        client.parse_callback({k: v for k, v in callback().items() if k != "sign"})


def test_parse_callback_rejects_a_signed_notification_without_usable_fields() -> None:
    client = make_client(lambda _r: envelope())
    with pytest.raises(MalformedCallback):
        client.parse_callback(callback(status="exploded"))
    with pytest.raises(MalformedCallback):
        client.parse_callback(callback(order_id=""))


def test_client_refuses_an_unknown_sign_type_or_empty_secret() -> None:
    with pytest.raises(ValueError, match="sign_type"):
        make_client(lambda _r: envelope(), sign_type="RSA")
    with pytest.raises(ValueError, match="secret"):
        make_client(lambda _r: envelope(), secret="")


def test_hmac_clients_sign_with_hmac() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(form(request))
        return envelope("3001")

    make_client(handler, sign_type="HMAC-SHA256").query_topup(request_ref="R1")
    assert seen[0]["sign_type"] == "HMAC-SHA256"
    assert len(seen[0]["sign"]) == 64
    assert verify(seen[0], SECRET)


def test_directory_finds_clients_by_code_and_rejects_unknown_or_duplicate_codes() -> None:
    a = make_client(lambda _r: envelope(), code="a")
    b = make_client(lambda _r: envelope(), code="b")
    directory = StaticSupplierDirectory([a, b])
    assert directory.get("b") is b
    assert directory.codes() == ["a", "b"]
    assert "a" in directory
    with pytest.raises(UnknownSupplier):
        directory.get("c")
    with pytest.raises(ValueError, match="twice"):
        StaticSupplierDirectory([a, make_client(lambda _r: envelope(), code="a")])
