"""`kamidesk nlu ...` (filled in by the NLU work)."""

import typer

app = typer.Typer(no_args_is_help=True)
