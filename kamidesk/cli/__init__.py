"""The `kamidesk` console command: one typer app, one sub-app per area."""

from __future__ import annotations

import typer

from kamidesk.cli import kb, nlu, ops

app = typer.Typer(no_args_is_help=True, help="kamidesk: after-sales desk for digital-goods shops")
ops.register(app)
app.add_typer(nlu.app, name="nlu", help="Natural-language understanding")
app.add_typer(kb.app, name="kb", help="Knowledge base")


def main() -> None:
    """Console-script entry point."""
    app()
