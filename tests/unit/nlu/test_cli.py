from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamidesk.cli import app
from kamidesk.settings import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "nlu-cli-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("RASA_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_parse_prints_intent_and_entities():
    out = runner.invoke(app, ["nlu", "parse", "订单KM2026112200017的卡密用不了"])
    assert out.exit_code == 0, out.output
    assert "intent: key_invalid" in out.output
    assert "order_id = 'KM2026112200017'" in out.output


def test_parse_json_is_the_rasa_shape():
    out = runner.invoke(app, ["nlu", "parse", "where is my refund", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["intent"]["name"] == "refund_status"


def test_evaluate_json_on_a_small_file(tmp_path: Path):
    path = tmp_path / "t.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: refund_request\n  examples: |\n    - 我要退款\n'
        "- intent: inform_order\n  examples: |\n    - [KM2026112200999](order_id)\n",
        encoding="utf-8",
    )
    out = runner.invoke(app, ["nlu", "evaluate", str(path), "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["examples"] == 2 and body["accuracy"] == 1.0
    assert body["entity_recall"] == 1.0


def test_evaluate_text_report_lists_intents():
    out = runner.invoke(app, ["nlu", "evaluate", "--misses", "2"])
    assert out.exit_code == 0, out.output
    assert "macro F1" in out.output and "| order_status |" in out.output


def test_evaluate_reports_bad_files_and_backends_clearly(tmp_path: Path):
    out = runner.invoke(app, ["nlu", "evaluate", str(tmp_path / "missing.yml")])
    assert out.exit_code == 1 and "not found" in out.output
    out = runner.invoke(app, ["nlu", "evaluate", "--backend", "spacy"])
    assert out.exit_code == 2 and "unknown backend" in out.output
    out = runner.invoke(app, ["nlu", "evaluate", "--backend", "rasa", "--cross-validation", "3"])
    assert out.exit_code == 2 and "scripts/rasa.sh" in out.output


def test_parse_with_an_unreachable_rasa_fails_with_a_message(monkeypatch):
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")
    out = runner.invoke(app, ["nlu", "parse", "hi", "--backend", "rasa"])
    assert out.exit_code == 1 and "unavailable" in out.output


def test_check_data_passes_on_the_shipped_data():
    out = runner.invoke(app, ["nlu", "check-data"])
    assert out.exit_code == 0, out.output
    assert "ok:" in out.output


def test_train_reports_the_cache():
    out = runner.invoke(app, ["nlu", "train"])
    assert out.exit_code == 0, out.output
    assert "cache:" in out.output and "examples" in out.output
