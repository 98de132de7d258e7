"""Operations commands: demo, serve, db upgrade, keys import, bench."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the operations commands to the top-level app."""
    db = typer.Typer(no_args_is_help=True, help="Database")
    app.add_typer(db, name="db")

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Apply every pending migration to DATABASE_URL."""
        from kamidesk.db import upgrade
        from kamidesk.settings import get_settings

        upgrade(get_settings().database_url)
        typer.echo("database is up to date")
