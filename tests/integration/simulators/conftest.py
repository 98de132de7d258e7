"""Until tests/conftest.py imports them, these tests take the simulator fixtures from here."""

from tests.simulators_fixture import (  # noqa: F401
    callback_sink,
    payment_sandbox,
    simulator_servers,
    supplier_sim,
)
