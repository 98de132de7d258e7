"""`kamidesk kb ...` (filled in by the knowledge-base work)."""

import typer

app = typer.Typer(no_args_is_help=True)
