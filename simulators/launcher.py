"""Start the supplier simulator and the payment sandbox together (for `kamidesk demo`).

sims = start_simulators(payment_merchants={"kamidesk-demo": secret})
sims.supplier.base_url, sims.payment.base_url
sims.stop()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from simulators.payment import create_payment_app
from simulators.payment_state import SandboxConfig
from simulators.server import ServerHandle, run_in_thread
from simulators.supplier import create_supplier_app
from simulators.supplier_state import SupplierConfig


@dataclass
class RunningSimulators:
    supplier: ServerHandle
    payment: ServerHandle
    suppliers: tuple[SupplierConfig, ...] = ()

    def supplier_endpoints(self) -> list[dict[str, object]]:
        """How the shop reaches each simulated supplier (the fields of a SUPPLIERS entry)."""
        endpoints: list[dict[str, object]] = []
        for config in self.suppliers:
            merchant_id, secret = next(iter(config.merchants.items()))
            endpoints.append(
                {
                    "code": config.code,
                    "base_url": f"{self.supplier.base_url}/s/{config.code}",
                    "merchant_id": merchant_id,
                    "secret": secret,
                    "sign_type": config.callback_sign_type,
                    "supports_key_check": config.supports_key_check,
                }
            )
        return endpoints

    def stop(self) -> None:
        """Stop both servers."""
        self.supplier.stop()
        self.payment.stop()


def start_simulators(
    *,
    payment_merchants: Mapping[str, str],
    suppliers: Iterable[SupplierConfig] | None = None,
    host: str = "127.0.0.1",
    supplier_port: int = 8001,
    payment_port: int = 8002,
) -> RunningSimulators:
    """Run both simulators in background threads (`suppliers` defaults to DEMO_SUPPLIERS)."""
    from simulators import DEMO_SUPPLIERS

    configs = tuple(DEMO_SUPPLIERS if suppliers is None else suppliers)
    supplier = run_in_thread(create_supplier_app(configs), host, supplier_port)
    try:
        config = SandboxConfig(merchants=dict(payment_merchants))
        payment = run_in_thread(create_payment_app(config), host, payment_port)
    except Exception:
        supplier.stop()
        raise
    return RunningSimulators(supplier=supplier, payment=payment, suppliers=configs)
