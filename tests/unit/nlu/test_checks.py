"""check-data: the held-out and blind test sets stay out of the training data."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kamidesk.cli import app
from nlu.checks import check_training_data, held_out_texts, leak_key
from nlu.config import BLIND_DATA_FILE, BLIND_LANG_FILE, TEST_DATA_FILE, TRAIN_DATA_DIR
from nlu.training_data import load_training_data

TRAIN = """version: "3.1"
nlu:
- intent: refund_request
  examples: |
    - i want my money back
    - refund please
- intent: greet
  examples: |
    - hello there
    - 你好呀
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_blind_sets_exist_and_are_big_enough():
    assert len(load_training_data([BLIND_DATA_FILE]).examples) >= 400
    assert len(held_out_texts(BLIND_LANG_FILE)) >= 400


def test_the_shipped_training_data_holds_no_blind_or_held_out_sentence():
    problems, _ = check_training_data(
        TRAIN_DATA_DIR, TEST_DATA_FILE, blind=[BLIND_DATA_FILE, BLIND_LANG_FILE]
    )
    assert problems == []


def test_a_copy_differing_in_case_spacing_or_punctuation_counts_as_a_leak():
    assert leak_key("Refund, please!!") == leak_key("refund please")
    assert leak_key("你好呀！") == leak_key("你好 呀")
    assert leak_key("refund please") != leak_key("refund me please")


def test_a_blind_sentence_in_the_training_data_fails_the_check(tmp_path: Path):
    train = write(tmp_path / "train.yml", TRAIN)
    test = write(
        tmp_path / "test.yml",
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - good morning\n',
    )
    blind_yml = write(
        tmp_path / "blind.yml",
        'version: "3.1"\nnlu:\n- intent: refund_request\n  examples: |\n'
        "    - I want my money back!\n    - where is my code\n",
    )
    blind_tsv = write(tmp_path / "blind.tsv", "zh\tgreet\t你好呀。\nen\tthanks\tcheers mate\n")
    problems, counts = check_training_data(train, test, minimum=1, blind=[blind_yml, blind_tsv])
    assert counts == {"refund_request": 2, "greet": 2}
    assert problems == [
        "blind example from blind.yml appears in the training data: 'i want my money back!'",
        "blind example from blind.tsv appears in the training data: '你好呀。'",
    ]
    clean, _ = check_training_data(train, test, minimum=1)
    assert clean == []


def test_check_data_on_the_command_line_guards_the_blind_set(monkeypatch, tmp_path: Path):
    import nlu.config

    train_dir = tmp_path / "train"
    train_dir.mkdir()
    shipped = (TRAIN_DATA_DIR / "smalltalk.yml").read_text(encoding="utf-8")
    write(train_dir / "smalltalk.yml", shipped)
    blind = write(tmp_path / "blind.tsv", "en\tgreet\tHELLO?\n")
    monkeypatch.setattr(nlu.config, "TRAIN_DATA_DIR", train_dir)
    monkeypatch.setattr(nlu.config, "BLIND_LANG_FILE", blind)
    monkeypatch.setattr(nlu.config, "BLIND_DATA_FILE", tmp_path / "absent.yml")
    out = CliRunner().invoke(app, ["nlu", "check-data", "--min", "1"])
    assert out.exit_code == 1
    assert "blind example from blind.tsv appears in the training data: 'hello?'" in out.output
