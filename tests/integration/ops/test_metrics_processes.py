"""Several processes behind one port: PROMETHEUS_MULTIPROC_DIR adds their counters up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
COUNT = """
from kamidesk.observability.metrics import DELIVERIES
DELIVERIES.labels("card_key").inc({n})
"""
SCRAPE = """
import sys
from kamidesk.observability.metrics import Exposition
sys.stdout.write(Exposition().render().decode())
"""


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_counters_of_every_process_are_added_up_in_multiprocess_mode(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _python(COUNT.format(n=2), env)  # two "API worker processes" that delivered keys
    _python(COUNT.format(n=3), env)
    scraped = _python(SCRAPE, env)  # a third one answers the scrape
    values = {
        (sample.name, tuple(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert values[("kamidesk_deliveries_total", (("kind", "card_key"),))] == 5
