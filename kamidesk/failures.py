"""Describing a failure for the logs without its message (which might carry customer data)."""

from __future__ import annotations

import traceback
from pathlib import Path


def describe_failure(exc: BaseException) -> str:
    """Exception type and the innermost frame; the message is left out on purpose."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    where = f"{Path(last.filename).parent.name}/{Path(last.filename).name}:{last.lineno}"
    return f"{type(exc).__name__} in {last.name} ({where})"
