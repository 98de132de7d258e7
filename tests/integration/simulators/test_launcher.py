"""Starting the simulators the way `kamidesk demo` and `python -m simulators` do."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.ports import KeyCheckStatus, PaymentStatus, SupplierOutcome
from fulfilment.suppliers.http import HttpSupplierClient
from simulators import DEMO_SUPPLIERS, ServerStartError, create_supplier_app, run_in_thread
from simulators.launcher import start_simulators

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def test_the_demo_endpoints_talk_to_the_started_simulators() -> None:
    sims = start_simulators(payment_merchants={"demo": "pay"}, supplier_port=0, payment_port=0)
    try:
        endpoints = sims.supplier_endpoints()
        assert [e["code"] for e in endpoints] == [c.code for c in DEMO_SUPPLIERS]
        for endpoint in endpoints:
            with HttpSupplierClient(**endpoint, timeout=2.0) as client:  # type: ignore[arg-type]
                assert client.query_topup(request_ref="X").outcome is SupplierOutcome.NOT_FOUND
                if not endpoint["supports_key_check"]:
                    status = client.check_key(product_code="P", key="ABCD-EFGH-JKLM-NPQR").status
                    assert status is KeyCheckStatus.UNSUPPORTED
        with HttpPaymentProvider(
            base_url=sims.payment.base_url, merchant_id="demo", secret="pay"
        ) as provider:
            assert provider.query_payment(order_no="O1").status is PaymentStatus.NOT_FOUND
    finally:
        sims.stop()
    with HttpSupplierClient(**endpoints[0], timeout=0.5) as client:  # type: ignore[arg-type]
        assert client.query_topup(request_ref="X").outcome is SupplierOutcome.UNKNOWN


def test_minting_from_an_unreachable_simulator_fails_with_a_message() -> None:
    minted = subprocess.run(
        [sys.executable, "-m", "simulators", "mint", "--url", "http://127.0.0.1:9",
         "--product", "G1"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert minted.returncode == 1
    assert "cannot reach the simulator" in minted.stderr


def test_starting_on_a_taken_port_fails_clearly() -> None:
    first = run_in_thread(create_supplier_app(DEMO_SUPPLIERS))
    try:
        with pytest.raises(ServerStartError, match="cannot bind"):
            run_in_thread(create_supplier_app(DEMO_SUPPLIERS), "127.0.0.1", first.port)
    finally:
        first.stop()


def test_python_dash_m_simulators_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators", "--supplier-port", "0", "--payment-port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        base_url = first_line.split()[2]
        response = httpx.get(f"{base_url}/admin/suppliers", timeout=5)
        assert [s["code"] for s in response.json()] == ["sup-a", "sup-b", "sup-c"]
        minted = subprocess.run(
            [sys.executable, "-m", "simulators", "mint", "--url", base_url, "--product", "G1",
             "--count", "3"],
            cwd=ROOT, capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        keys = minted.stdout.split()
        assert len(set(keys)) == 3
        state = httpx.post(f"{base_url}/admin/s/sup-a/keys/state", json={"key": keys[0]})
        assert state.json()["state"] == "unused"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
