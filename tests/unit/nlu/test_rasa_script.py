"""scripts/rasa.sh without Rasa: usage, model lookup, and a stable model name."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "rasa.sh"


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAMIDESK_RASA_HOME": str(home)}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_without_a_command_it_prints_usage_and_fails(tmp_path: Path):
    out = run(home=tmp_path)
    assert out.returncode == 2
    assert "bash scripts/rasa.sh train" in out.stderr


def test_model_fails_when_nothing_was_trained(tmp_path: Path):
    out = run("model", home=tmp_path)
    assert out.returncode == 1 and out.stdout == ""


def test_model_names_the_file_for_the_current_data_and_config(tmp_path: Path):
    models = tmp_path / "models"
    models.mkdir()
    # Independent of the script: sha256 over the config, then the data files in byte order.
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "nlu/data/train").rglob("*.y*ml"))
    digest = hashlib.sha256((ROOT / "nlu/rasa/config.yml").read_bytes())
    for name in files:
        digest.update((ROOT / name).read_bytes())
    name = digest.hexdigest()[:16]
    (models / f"nlu-{name}.tar.gz").write_bytes(b"")
    out = run("model", home=tmp_path)
    assert out.returncode == 0
    assert out.stdout.strip() == str(models / f"nlu-{name}.tar.gz")
