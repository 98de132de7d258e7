from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kamidesk.cli import app
from kamidesk.settings import get_settings
from knowledge_base.feedback import log_question


@pytest.fixture
def database_url(kb_db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", kb_db_url)
    get_settings.cache_clear()
    yield kb_db_url
    get_settings.cache_clear()


def test_kb_report_prints_the_unanswered_questions(database_url, kb_sessions):
    log_question(
        session_factory=kb_sessions,
        question="Do you sell Netflix cards?",
        language="en",
        answered=False,
        top_article_id=None,
        confidence=0.1,
    )
    result = CliRunner().invoke(app, ["kb", "report", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert "# Knowledge base report" in result.output
    assert "| 1 | en | Do you sell Netflix cards? |" in result.output


def test_kb_report_explains_a_database_without_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["kb", "report"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "kamidesk db upgrade" in result.output
