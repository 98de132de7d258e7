"""The FastAPI app through TestClient, on the fulfilment fixtures (both databases)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from kamidesk.agents import StaffTokenDirectory
from kamidesk.app import create_app
from kamidesk.bootstrap import Container
from kamidesk.settings import Settings

SHOP = {"Authorization": "Bearer shop-token-for-tests"}
STAFF = {"Authorization": "Bearer staff-token-for-tests"}


class RecordingJobs:
    """Collects triggers; the test decides when work runs."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.refunds: list[int] = []

    async def trigger_delivery(self, order_no: str) -> None:
        self.deliveries.append(order_no)

    async def trigger_refund(self, refund_id: int) -> None:
        self.refunds.append(refund_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@pytest.fixture
def container(session_factory, vault, suppliers, payments, policy):  # type: ignore[no-untyped-def]
    settings = Settings(
        demo_mode=True,
        shop_api_token=SecretStr("shop-token-for-tests"),
        staff_api_token=SecretStr("staff-token-for-tests"),
        sweep_interval_seconds=0.05,
    )
    http = httpx.Client()
    box = Container(
        settings=settings,
        engine=session_factory.kw["bind"],
        session_factory=session_factory,
        vault=vault,
        suppliers=suppliers,
        payments=payments,
        policy=policy,
        http=http,
        agents=StaffTokenDirectory(settings.staff_api_token),
    )
    yield box
    http.close()


@pytest.fixture
def jobs() -> RecordingJobs:
    return RecordingJobs()


@pytest.fixture
def client(container, jobs):  # type: ignore[no-untyped-def]
    app = create_app(container=container, jobs=jobs)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
