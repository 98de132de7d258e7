"""Card-key checks against the real supplier simulator, over HTTP."""

from __future__ import annotations

import time

import pytest

from fulfilment.ports import KeyCheckStatus
from fulfilment.suppliers.http import HttpSupplierClient
from tests.simulators_fixture import SupplierSim

pytestmark = pytest.mark.integration


def test_card_keys_check_as_unused_then_used_and_unknown_keys_as_invalid(
    supplier_sim: SupplierSim,
) -> None:
    good, spent, voided = supplier_sim.admin.mint_keys("sup-a", "GAME50", 3)
    supplier_sim.admin.redeem_key("sup-a", spent)
    supplier_sim.admin.invalidate_key("sup-a", voided)
    client = supplier_sim.client("sup-a")

    def check(key: str, product: str = "GAME50") -> KeyCheckStatus:
        return client.check_key(product_code=product, key=key).status

    assert check(good) is KeyCheckStatus.UNUSED
    assert check(spent) is KeyCheckStatus.USED
    assert check(voided) is KeyCheckStatus.INVALID
    assert check("NOPE-NOPE-NOPE-NOPE") is KeyCheckStatus.INVALID
    assert check(good, product="OTHER") is KeyCheckStatus.INVALID
    used_at = client.check_key(product_code="GAME50", key=spent).used_at
    assert used_at is not None
    assert abs(time.time() - used_at.timestamp()) < 10


def test_key_faults_report_keys_used_or_invalid_and_checks_can_time_out(
    supplier_sim: SupplierSim,
) -> None:
    (key,) = supplier_sim.admin.mint_keys("sup-a", "GAME50", 1)
    admin, client = supplier_sim.admin, supplier_sim.client("sup-a", timeout=0.5)
    admin.add_fault("sup-a", "key_used", times=1)
    admin.add_fault("sup-a", "key_invalid", product_code="OTHER")
    admin.add_fault("sup-a", "timeout", operation="check_key", seconds=1.5, times=1)

    assert client.check_key(product_code="GAME50", key=key).status is KeyCheckStatus.UNKNOWN
    assert client.check_key(product_code="GAME50", key=key).status is KeyCheckStatus.USED
    assert client.check_key(product_code="GAME50", key=key).status is KeyCheckStatus.UNUSED
    assert admin.key_state("sup-a", key)["state"] == "unused"


def test_a_supplier_without_key_checks_answers_unsupported(supplier_sim: SupplierSim) -> None:
    with HttpSupplierClient(
        code="sup-nocheck", base_url=supplier_sim.admin.supplier_url("sup-nocheck"),
        merchant_id="shop-n", secret="secret-n", supports_key_check=True,
    ) as client:  # fmt: skip
        result = client.check_key(product_code="GAME50", key="ABCD-EFGH-JKLM-NPQR")
    assert result.status is KeyCheckStatus.UNSUPPORTED
