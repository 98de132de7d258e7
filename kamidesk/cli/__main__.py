"""`python -m kamidesk.cli`: the same as the `kamidesk` command."""

from kamidesk.cli import main

main()
