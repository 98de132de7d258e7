"""HttpSupplierClient against the real supplier simulator, over HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from fulfilment.ports import SignatureError, SupplierOutcome
from fulfilment.suppliers.http import HttpSupplierClient
from fulfilment.suppliers.signing import signed
from simulators.admin import CallbackSinkAdmin
from tests.simulators_fixture import SupplierSim

pytestmark = pytest.mark.integration

PHONE = "13800138000"


def submit(client: HttpSupplierClient, ref: str = "R1", account: str = PHONE):
    return client.submit_topup(
        request_ref=ref, product_code="CM10", account=account, amount_cents=1000
    )


def test_a_topup_succeeds_and_a_signed_callback_reports_it(
    supplier_sim: SupplierSim, callback_sink: CallbackSinkAdmin
) -> None:
    client = supplier_sim.client("sup-a", notify_url=callback_sink.url("a"))

    result = submit(client)
    supplier_sim.admin.wait_callbacks()

    assert result.outcome is SupplierOutcome.SUCCESS
    (params,) = callback_sink.received("a")
    notice = client.parse_callback(params)
    assert (notice.request_ref, notice.outcome) == ("R1", SupplierOutcome.SUCCESS)
    assert notice.supplier_ref == result.supplier_ref
    assert supplier_sim.admin.topups(PHONE) == {
        "account": PHONE,
        "count": 1,
        "amount_cents": 1000,
        "by_supplier": {"sup-a": 1},
        "submits": 1,
    }


def test_with_a_processing_delay_the_order_is_accepted_then_succeeds(
    supplier_sim: SupplierSim,
) -> None:
    supplier_sim.admin.put_supplier(
        {"code": "sup-a", "merchants": {"shop-a": "secret-a"}, "processing_delay": 0.2}
    )
    client = supplier_sim.client("sup-a")

    assert submit(client).outcome is SupplierOutcome.ACCEPTED
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.ACCEPTED
    assert supplier_sim.admin.topup_count(PHONE) == 0
    deadline = time.monotonic() + 3
    while client.query_topup(request_ref="R1").outcome is not SupplierOutcome.SUCCESS:
        assert time.monotonic() < deadline, "the order never finished"
        time.sleep(0.05)
    assert supplier_sim.admin.topup_count(PHONE) == 1


def test_a_timeout_is_unknown_and_the_query_shows_it_actually_succeeded(
    supplier_sim: SupplierSim,
) -> None:
    supplier_sim.admin.add_fault("sup-a", "timeout", seconds=1.5, create_order=True, times=1)
    client = supplier_sim.client("sup-a", timeout=0.5)

    assert submit(client).outcome is SupplierOutcome.UNKNOWN
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.SUCCESS
    # Re-submitting with the same ref (what a careless caller would do) still tops up once.
    assert submit(client).outcome is SupplierOutcome.SUCCESS
    assert supplier_sim.admin.topup_count(PHONE) == 1


def test_latency_below_the_client_timeout_only_slows_the_answer(supplier_sim: SupplierSim) -> None:
    supplier_sim.admin.add_fault("sup-a", "latency", operation="submit", seconds=0.3)
    client = supplier_sim.client("sup-a", timeout=5.0)

    started = time.monotonic()
    assert submit(client).outcome is SupplierOutcome.SUCCESS
    assert time.monotonic() - started >= 0.3


def test_a_timeout_before_the_order_existed_queries_as_not_found(
    supplier_sim: SupplierSim,
) -> None:
    supplier_sim.admin.add_fault("sup-a", "timeout", seconds=1.5, times=1)
    client = supplier_sim.client("sup-a", timeout=0.5)

    assert submit(client).outcome is SupplierOutcome.UNKNOWN
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.NOT_FOUND
    assert supplier_sim.admin.topup_count(PHONE) == 0
    assert supplier_sim.admin.submit_count(PHONE) == 1  # it did arrive, then got lost


@pytest.mark.parametrize("create_order", [False, True])
def test_a_5xx_is_unknown_whether_or_not_the_order_was_made(
    supplier_sim: SupplierSim, create_order: bool
) -> None:
    supplier_sim.admin.add_fault(
        "sup-a", "http_error", status_code=502, create_order=create_order, times=1
    )
    client = supplier_sim.client("sup-a")

    assert submit(client).outcome is SupplierOutcome.UNKNOWN
    expected = SupplierOutcome.SUCCESS if create_order else SupplierOutcome.NOT_FOUND
    assert client.query_topup(request_ref="R1").outcome is expected


def test_an_unreadable_answer_is_unknown(supplier_sim: SupplierSim) -> None:
    supplier_sim.admin.add_fault("sup-a", "bad_response", operation="query", times=1)
    client = supplier_sim.client("sup-a")
    submit(client)
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.UNKNOWN
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.SUCCESS


def test_a_duplicate_submit_returns_the_same_order_and_tops_up_once(
    supplier_sim: SupplierSim,
) -> None:
    client = supplier_sim.client("sup-a")
    first, second = submit(client), submit(client)
    assert first.supplier_ref == second.supplier_ref
    assert len(supplier_sim.admin.orders("sup-a")) == 1
    assert supplier_sim.admin.topup_count(PHONE) == 1
    assert supplier_sim.admin.submit_count(PHONE) == 2


def test_a_submit_reusing_a_ref_for_another_account_is_not_a_definite_failure(
    supplier_sim: SupplierSim,
) -> None:
    client = supplier_sim.client("sup-a")
    submit(client)
    result = submit(client, account="13900000000")
    assert result.outcome is SupplierOutcome.UNKNOWN
    assert result.message.startswith("2001")
    assert supplier_sim.admin.topup_count("13900000000") == 0


def test_a_request_with_a_wrong_signature_is_refused_and_creates_nothing(
    supplier_sim: SupplierSim,
) -> None:
    with HttpSupplierClient(
        code="sup-a", base_url=supplier_sim.admin.supplier_url("sup-a"),
        merchant_id="shop-a", secret="not-the-secret",
    ) as client:  # fmt: skip
        result = submit(client)
    assert (result.outcome, result.message) == (SupplierOutcome.FAILED, "1003: signature mismatch")
    assert supplier_sim.admin.orders("sup-a") == []


def test_an_unknown_merchant_and_a_stale_timestamp_are_refused(supplier_sim: SupplierSim) -> None:
    url = supplier_sim.admin.supplier_url("sup-a")
    with HttpSupplierClient(code="sup-a", base_url=url, merchant_id="x", secret="y") as stranger:
        assert submit(stranger).message.startswith("1002")
    late = supplier_sim.client("sup-a", clock=lambda: time.time() - 3600)
    assert submit(late).message.startswith("1004")
    assert supplier_sim.admin.orders("sup-a") == []


def test_supplier_a_can_fail_while_supplier_b_succeeds(supplier_sim: SupplierSim) -> None:
    supplier_sim.admin.add_fault("sup-a", "outcome", outcome="failed")
    a, b = supplier_sim.client("sup-a"), supplier_sim.client("sup-b")

    assert submit(a, ref="R1-a").outcome is SupplierOutcome.FAILED
    assert submit(b, ref="R1-b").outcome is SupplierOutcome.SUCCESS
    assert supplier_sim.admin.topups(PHONE)["by_supplier"] == {"sup-b": 1}


def test_a_repeated_submit_does_not_use_up_an_outcome_fault_meant_for_a_new_order(
    supplier_sim: SupplierSim,
) -> None:
    client = supplier_sim.client("sup-a")
    submit(client, ref="R1")
    supplier_sim.admin.add_fault("sup-a", "outcome", outcome="failed", times=1)

    assert submit(client, ref="R1").outcome is SupplierOutcome.SUCCESS
    assert submit(client, ref="R2").outcome is SupplierOutcome.FAILED


def test_a_rejected_topup_is_a_definite_failure_with_no_order(supplier_sim: SupplierSim) -> None:
    supplier_sim.admin.add_fault("sup-a", "outcome", outcome="reject", account=PHONE)
    client = supplier_sim.client("sup-a")
    assert submit(client).outcome is SupplierOutcome.FAILED
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.NOT_FOUND


def test_faults_are_scoped_to_an_account_and_fire_only_so_many_times(
    supplier_sim: SupplierSim,
) -> None:
    supplier_sim.admin.add_fault("sup-a", "http_error", account="13900000000", times=2)
    client = supplier_sim.client("sup-a")

    assert submit(client, ref="R1").outcome is SupplierOutcome.SUCCESS
    outcomes = [submit(client, ref="R2", account="13900000000").outcome for _ in range(3)]
    assert outcomes == [SupplierOutcome.UNKNOWN, SupplierOutcome.UNKNOWN, SupplierOutcome.SUCCESS]


def test_random_faults_repeat_exactly_with_the_same_seed(supplier_sim: SupplierSim) -> None:
    def run() -> list[SupplierOutcome]:
        supplier_sim.admin.reset()
        supplier_sim.admin.add_fault("sup-a", "http_error", operation="query", rate=0.5, seed=7)
        client = supplier_sim.client("sup-a")
        return [client.query_topup(request_ref="R").outcome for _ in range(12)]

    first = run()
    assert first == run()
    assert set(first) == {SupplierOutcome.UNKNOWN, SupplierOutcome.NOT_FOUND}


def test_failed_callback_deliveries_are_retried_until_acknowledged(
    supplier_sim: SupplierSim, callback_sink: CallbackSinkAdmin
) -> None:
    callback_sink.fail_next("a", times=2)
    submit(supplier_sim.client("sup-a", notify_url=callback_sink.url("a")))
    supplier_sim.admin.wait_callbacks()

    (delivery,) = supplier_sim.admin.callbacks()
    assert delivery["acknowledged"] is True
    assert [a.split()[0] for a in delivery["attempts"]] == ["500", "500", "200"]
    assert len(callback_sink.received("a")) == 3


def test_a_lost_callback_is_never_sent_but_the_query_tells_the_truth(
    supplier_sim: SupplierSim, callback_sink: CallbackSinkAdmin
) -> None:
    supplier_sim.admin.add_fault("sup-a", "callback_lost")
    client = supplier_sim.client("sup-a", notify_url=callback_sink.url("a"))
    submit(client)
    supplier_sim.admin.wait_callbacks()

    assert callback_sink.received("a") == []
    assert client.query_topup(request_ref="R1").outcome is SupplierOutcome.SUCCESS


def test_a_callback_with_a_bad_signature_is_rejected_by_the_adapter(
    supplier_sim: SupplierSim, callback_sink: CallbackSinkAdmin
) -> None:
    supplier_sim.admin.add_fault("sup-b", "callback_bad_sign")
    client = supplier_sim.client("sup-b", notify_url=callback_sink.url("b"))
    submit(client)
    supplier_sim.admin.wait_callbacks()

    (params,) = callback_sink.received("b")
    with pytest.raises(SignatureError):
        client.parse_callback(params)


def test_hmac_signed_callbacks_from_supplier_b_verify(
    supplier_sim: SupplierSim, callback_sink: CallbackSinkAdmin
) -> None:
    supplier_sim.admin.add_fault("sup-b", "outcome", outcome="failed")
    client = supplier_sim.client("sup-b", notify_url=callback_sink.url("b"))
    submit(client)
    supplier_sim.admin.wait_callbacks()

    (params,) = callback_sink.received("b")
    assert params["sign_type"] == "HMAC-SHA256"
    assert client.parse_callback(params).outcome is SupplierOutcome.FAILED


def test_a_stuck_order_finishes_when_the_supplier_completes_it(
    supplier_sim: SupplierSim, callback_sink: CallbackSinkAdmin
) -> None:
    supplier_sim.admin.add_fault("sup-a", "outcome", outcome="processing")
    client = supplier_sim.client("sup-a", notify_url=callback_sink.url("a"))
    assert submit(client).outcome is SupplierOutcome.ACCEPTED

    supplier_sim.admin.complete_order("sup-a", "R1", "success")
    supplier_sim.admin.wait_callbacks()

    (params,) = callback_sink.received("a")
    assert client.parse_callback(params).outcome is SupplierOutcome.SUCCESS
    assert supplier_sim.admin.topup_count(PHONE) == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": "ten"}, "1001"),
        ({"amount": "0.00"}, "1001"),
        ({"account": ""}, "1001"),
        ({"order_id": "R" * 65}, "1001"),
        ({"notify_url": "ftp://shop.test/cb"}, "1001"),
        ({"merchant_id": ""}, "1001"),
    ],
)
def test_bad_input_gets_a_clear_error_code(
    supplier_sim: SupplierSim, change: dict[str, str], code: str
) -> None:
    params = {
        "merchant_id": "shop-a", "order_id": "R1", "product_code": "CM10", "account": PHONE,
        "amount": "10.00", "timestamp": str(int(time.time())), **change,
    }  # fmt: skip
    url = f"{supplier_sim.admin.supplier_url('sup-a')}/api/topup/submit"
    answer = httpx.post(url, data=signed(params, "secret-a")).json()
    assert answer["code"] == code
    assert answer["msg"]


def test_an_unknown_supplier_path_is_a_404(supplier_sim: SupplierSim) -> None:
    response = httpx.post(f"{supplier_sim.base_url}/s/nobody/api/topup/query", data={})
    assert response.status_code == 404
