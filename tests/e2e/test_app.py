"""The application as a whole: start-up wiring and the documented API."""

from __future__ import annotations

from tests.e2e.conftest import STAFF


def test_the_knowledge_base_is_the_containers_and_is_ready_at_start_up(client, container):
    assert client.app.state.kb is container.kb
    assert client.app.state.jobs is container.jobs
    asked = client.post("/api/v1/kb/ask", json={"question": "发票怎么开"}, headers=STAFF)
    assert asked.status_code == 200 and asked.json()["confident"] is True
