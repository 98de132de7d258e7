"""Pytest fixtures running the real simulators over HTTP (import them from tests/conftest.py).

    from tests.simulators_fixture import callback_sink, payment_sandbox, supplier_sim  # noqa

The three servers (supplier simulator, payment sandbox, callback sink) start once per session
on free 127.0.0.1 ports, in background threads; each function-scoped fixture resets its server
before the test and closes the adapters it handed out afterwards.

Suppliers: `sup-a` (MD5 callbacks), `sup-b` (HMAC-SHA256 callbacks), `sup-nocheck` (cannot
check keys); all finish orders at once and retry callbacks quickly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.suppliers.http import HttpSupplierClient
from simulators import SandboxConfig, SupplierConfig, create_payment_app, create_supplier_app
from simulators.admin import CallbackSinkAdmin, PaymentSandboxAdmin, SupplierSimAdmin
from simulators.receiver import create_receiver_app
from simulators.server import ServerHandle, run_in_thread

SUPPLIER_SECRETS = {"sup-a": "secret-a", "sup-b": "secret-b", "sup-nocheck": "secret-n"}
TEST_SUPPLIERS = (
    SupplierConfig(code="sup-a", merchants={"shop-a": "secret-a"}, callback_backoff=0.05),
    SupplierConfig(
        code="sup-b",
        merchants={"shop-b": "secret-b"},
        callback_sign_type="HMAC-SHA256",
        callback_backoff=0.05,
    ),
    SupplierConfig(
        code="sup-nocheck",
        merchants={"shop-n": "secret-n"},
        supports_key_check=False,
        callback_backoff=0.05,
    ),
)
PAYMENT_MERCHANT, PAYMENT_SECRET = "shop", "pay-secret"
TEST_SANDBOX = SandboxConfig(merchants={PAYMENT_MERCHANT: PAYMENT_SECRET}, callback_backoff=0.05)


@dataclass
class SupplierSim:
    """The running supplier simulator: `admin` for faults/keys/counts, `client()` for adapters."""

    base_url: str
    admin: SupplierSimAdmin
    http: httpx.Client | None = None  # shared by the adapters handed out (one TLS setup)
    _clients: list[HttpSupplierClient] = field(default_factory=list)

    def client(
        self, code: str = "sup-a", *, notify_url: str = "", timeout: float = 1.0, **kwargs: object
    ) -> HttpSupplierClient:
        """An `HttpSupplierClient` for simulated supplier `code` (closed after the test)."""
        config = next(c for c in TEST_SUPPLIERS if c.code == code)
        merchant_id, secret = next(iter(config.merchants.items()))
        kwargs.setdefault("client", self.http)
        client = HttpSupplierClient(
            code=code,
            base_url=self.admin.supplier_url(code),
            merchant_id=merchant_id,
            secret=secret,
            notify_url=notify_url,
            timeout=timeout,
            supports_key_check=config.supports_key_check,
            **kwargs,  # type: ignore[arg-type]
        )
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


@dataclass
class PaymentSandbox:
    """The running payment sandbox: `admin` for faults/payments, `provider()` for adapters."""

    base_url: str
    admin: PaymentSandboxAdmin
    merchant_id: str = PAYMENT_MERCHANT
    secret: str = PAYMENT_SECRET
    http: httpx.Client | None = None
    _providers: list[HttpPaymentProvider] = field(default_factory=list)

    def provider(self, *, timeout: float = 1.0, **kwargs: object) -> HttpPaymentProvider:
        """An `HttpPaymentProvider` for the sandbox's merchant (closed after the test)."""
        kwargs.setdefault("client", self.http)
        provider = HttpPaymentProvider(
            base_url=self.base_url,
            merchant_id=self.merchant_id,
            secret=self.secret,
            timeout=timeout,
            **kwargs,  # type: ignore[arg-type]
        )
        self._providers.append(provider)
        return provider

    def close_providers(self) -> None:
        for provider in self._providers:
            provider.close()
        self._providers.clear()


@dataclass
class SimulatorServers:
    supplier: ServerHandle
    payment: ServerHandle
    sink: ServerHandle
    http: httpx.Client = field(
        default_factory=lambda: httpx.Client(timeout=10.0, trust_env=False)  # local only
    )

    def stop(self) -> None:
        """Stop the servers and close the shared HTTP client."""
        self.http.close()
        for handle in (self.supplier, self.payment, self.sink):
            handle.stop()


def start_simulator_servers() -> SimulatorServers:
    """Start the three servers on free ports (plain function, usable outside pytest)."""
    handles: list[ServerHandle] = []
    try:
        for app in (
            create_supplier_app(TEST_SUPPLIERS),
            create_payment_app(TEST_SANDBOX),
            create_receiver_app(),
        ):
            handles.append(run_in_thread(app, "127.0.0.1", 0))
    except Exception:
        for handle in handles:
            handle.stop()
        raise
    return SimulatorServers(supplier=handles[0], payment=handles[1], sink=handles[2])


@pytest.fixture(scope="session")
def simulator_servers() -> Iterator[SimulatorServers]:
    """The three simulator servers, for the whole session."""
    servers = start_simulator_servers()
    yield servers
    servers.stop()


@pytest.fixture
def supplier_sim(simulator_servers: SimulatorServers) -> Iterator[SupplierSim]:
    """The supplier simulator, reset for this test."""
    admin = SupplierSimAdmin(simulator_servers.supplier.base_url, simulator_servers.http)
    admin.reset()
    sim = SupplierSim(base_url=admin.base_url, admin=admin, http=simulator_servers.http)
    yield sim
    sim.close_clients()


@pytest.fixture
def payment_sandbox(simulator_servers: SimulatorServers) -> Iterator[PaymentSandbox]:
    """The payment sandbox, reset for this test."""
    admin = PaymentSandboxAdmin(simulator_servers.payment.base_url, simulator_servers.http)
    admin.reset()
    sandbox = PaymentSandbox(base_url=admin.base_url, admin=admin, http=simulator_servers.http)
    yield sandbox
    sandbox.close_providers()


@pytest.fixture
def callback_sink(simulator_servers: SimulatorServers) -> CallbackSinkAdmin:
    """A notify endpoint that records what it receives, reset for this test."""
    sink = CallbackSinkAdmin(simulator_servers.sink.base_url, simulator_servers.http)
    sink.reset()
    return sink
