"""Real stand-ins for the outside world: a supplier simulator and a payment sandbox.

Both are FastAPI apps speaking the signed-form protocols of real Chinese providers (see
`simulators.protocol`), with deterministic fault injection (`simulators.faults`) and admin
endpoints for tests and the demo. They import nothing from the rest of the project except the
signature and amount helpers in `fulfilment.suppliers`, which the real adapters use too.

    from simulators import run_in_thread, create_supplier_app, DEMO_SUPPLIERS
    handle = run_in_thread(create_supplier_app(DEMO_SUPPLIERS), "127.0.0.1", 8001)
    sandbox = run_in_thread(
        create_payment_app(SandboxConfig(merchants={merchant_id: secret})), "127.0.0.1", 8002
    )
    ...
    handle.stop(); sandbox.stop()

`python -m simulators` runs both on 127.0.0.1:8001 and :8002 (see `--help`).
"""

from __future__ import annotations

from simulators.payment import create_payment_app
from simulators.payment_state import SandboxConfig
from simulators.server import ServerHandle, ServerStartError, run_in_thread
from simulators.supplier import create_supplier_app
from simulators.supplier_state import SupplierConfig

# Demo identities. Real deployments configure their own; these secrets are public on purpose.
DEMO_SUPPLIERS = (
    SupplierConfig(code="sup-a", merchants={"kamidesk-a": "demo-secret-a"}, processing_delay=2.0),
    SupplierConfig(
        code="sup-b",
        merchants={"kamidesk-b": "demo-secret-b"},
        callback_sign_type="HMAC-SHA256",
        processing_delay=2.0,
    ),
    SupplierConfig(
        code="sup-c",
        merchants={"kamidesk-c": "demo-secret-c"},
        processing_delay=2.0,
        supports_key_check=False,
    ),
)

__all__ = [
    "DEMO_SUPPLIERS",
    "SandboxConfig",
    "ServerHandle",
    "ServerStartError",
    "SupplierConfig",
    "create_payment_app",
    "create_supplier_app",
    "run_in_thread",
]
