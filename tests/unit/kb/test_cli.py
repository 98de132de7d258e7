from __future__ import annotations

from typer.testing import CliRunner

from kamidesk.cli import app

runner = CliRunner()


def test_kb_ask_prints_the_confident_answer():
    result = runner.invoke(app, ["kb", "ask", "卡密提示已被使用怎么办", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "key-already-used-zh" in result.output
    assert "confident answer" in result.output


def test_kb_ask_admits_when_it_has_no_answer():
    result = runner.invoke(app, ["kb", "ask", "what is the capital of france", "--lang", "en"])
    assert result.exit_code == 1
    assert "no confident answer" in result.output.lower()


def test_kb_evaluate_prints_the_metrics_table():
    result = runner.invoke(app, ["kb", "evaluate", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "| hit@1 | hit@3 | MRR |" in result.output
    assert "| en |" in result.output


def test_kb_evaluate_reports_a_missing_question_file(tmp_path):
    result = runner.invoke(app, ["kb", "evaluate", "--questions", str(tmp_path / "none.yml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_kb_check_counts_articles_per_language():
    result = runner.invoke(app, ["kb", "check"])
    assert result.exit_code == 0, result.output
    assert "zh 39" in result.output and "en 39" in result.output


def test_kb_evaluate_fails_the_build_when_quality_drops_below_the_gate():
    result = runner.invoke(app, ["kb", "evaluate", "--lang", "zh", "--min-hit1", "1.01"])
    assert result.exit_code == 1
    assert "FAIL: hit@1" in result.output
    ok = runner.invoke(app, ["kb", "evaluate", "--lang", "zh", "--min-hit1", "0.5"])
    assert ok.exit_code == 0, ok.output
