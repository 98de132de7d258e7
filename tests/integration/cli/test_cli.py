from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fulfilment.actors import Actor
from fulfilment.keyvault import KeyVault
from kamidesk.cli import app
from kamidesk.settings import get_settings


def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DEMO_MODE", "true")
    monkeypatch.setenv("KEY_ENCRYPTION_KEY", KeyVault.generate_key())
    get_settings.cache_clear()


def test_db_upgrade_then_keys_import_from_a_file_skips_duplicates(tmp_path, monkeypatch):
    _env(tmp_path, monkeypatch)
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        from decimal import Decimal

        from fulfilment.services import catalog
        from kamidesk.bootstrap import build

        box = build(get_settings())
        catalog.create_product(
            uow=box.uow(),
            sku="STEAM-50",
            name="s",
            kind="card_key",
            face_value=Decimal(50),
            price=Decimal(50),
            currency="CNY",
            keys_case_sensitive=False,  # so the lower-case spelling below is a duplicate
            actor=Actor.system("test"),
        )
        keys = tmp_path / "keys.txt"
        keys.write_text("\ufeffKEY-0001-AAAA\nKEY-0002-BBBB\n\nkey-0001-aaaa\n")
        result = runner.invoke(app, ["keys", "import", "STEAM-50", str(keys)])
        assert result.exit_code == 0, result.output
        assert "imported 2, duplicates 1, rejected 0, stock now 2" in result.output
        assert "KEY-0001" not in result.output
        missing = runner.invoke(app, ["keys", "import", "NOPE", str(keys)])
        assert missing.exit_code == 2 and "no product" in missing.output
        box.close()
    finally:
        get_settings.cache_clear()


@pytest.mark.slow
def test_keys_import_takes_a_file_larger_than_one_import_in_batches(tmp_path, monkeypatch):
    from decimal import Decimal

    from fulfilment.services import catalog
    from kamidesk.bootstrap import build

    _env(tmp_path, monkeypatch)
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        box = build(get_settings())
        catalog.create_product(
            uow=box.uow(),
            sku="BULK",
            name="b",
            kind="card_key",
            face_value=Decimal(5),
            price=Decimal(5),
            currency="CNY",
            actor=Actor.system("test"),
        )
        total = catalog.MAX_KEYS_PER_IMPORT + 1500
        keys = tmp_path / "keys.txt"
        keys.write_text("".join(f"BULK-{n:06d}-WXYZ\n" for n in range(total)))
        result = runner.invoke(app, ["keys", "import", "BULK", str(keys)])
        assert result.exit_code == 0, result.output
        assert f"imported {total}, duplicates 0, rejected 0, stock now {total}" in result.output
        box.close()
    finally:
        get_settings.cache_clear()
