"""Named background tasks and the due sources the sweep asks: the registry both job runners
(and the arq worker) serve. See `kamidesk.jobs` for the runners.

    ValueError   an unknown task, a task registered twice, or an argument the task refuses
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kamidesk.failures import describe_failure

log = logging.getLogger("kamidesk.jobs")  # one logger for the background work

DELIVER_JOB = "deliver_order"
REFUND_JOB = "push_refund"
REISSUE_JOB = "resume_reissue"
DISPATCH_JOB = "dispatch_event"
MAX_ORDER_NO = 64


def check_order_no(order_no: object) -> str:
    """The order number, or ValueError when it cannot be one."""
    if not isinstance(order_no, str) or not order_no.strip() or len(order_no) > MAX_ORDER_NO:
        raise ValueError(f"order_no must be a non-empty string of at most {MAX_ORDER_NO} chars")
    return order_no


def check_refund_id(refund_id: object) -> int:
    """The refund id, or ValueError when it cannot be one."""
    return _positive_id(refund_id, "refund_id")


def check_outbox_id(outbox_id: object) -> int:
    """The outbox row id, or ValueError when it cannot be one."""
    return _positive_id(outbox_id, "outbox_id")


def check_request_id(request_id: object) -> str:
    """A reissue request id, or ValueError."""
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 80:
        raise ValueError("request_id must be a string of 1-80 characters")
    return request_id


def check_json(arg: object) -> object:
    """Any JSON-able argument (the default check of a registered task)."""
    try:
        json.dumps(arg)
    except (TypeError, ValueError):
        raise ValueError("a task argument must be JSON-able") from None
    return arg


def _positive_id(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer")
    return value


def job_id(queue_name: str, kind: str, key: object) -> str:
    """arq job id for dedupe, e.g. `kamidesk:queue:deliver:KM123` (namespaced per queue)."""
    return f"{queue_name}:{kind}:{key}"


@dataclass(frozen=True)
class TaskSpec:
    """How a task is named in job ids (`key`) and what argument it accepts (`check`)."""

    name: str
    key: str
    check: Callable[[Any], Any] = check_json

    def job_key(self, arg: Any) -> str:
        """`key:arg`: one pending run per task and argument."""
        text = arg if isinstance(arg, str | int) else json.dumps(arg, sort_keys=True)
        return f"{self.key}:{text}"


CORE_TASKS = {
    spec.name: spec
    for spec in (
        TaskSpec(DELIVER_JOB, "deliver", check_order_no),
        TaskSpec(REFUND_JOB, "refund", check_refund_id),
        TaskSpec(REISSUE_JOB, "reissue", check_request_id),
        TaskSpec(DISPATCH_JOB, "outbox", check_outbox_id),
    )
}


class TaskRegistry:
    """Named tasks and the due sources the sweep asks; shared by a runner and its worker."""

    def __init__(self) -> None:
        self._specs: dict[str, TaskSpec] = dict(CORE_TASKS)
        self._fns: dict[str, Callable[[Any], object]] = {}
        self._due: list[tuple[str, Callable[[], Iterable[tuple[str, Any]]]]] = []
        self._lock = threading.Lock()

    def register_task(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        key: str | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> None:
        """Add a task; `key` names it in job ids (default: its name)."""
        with self._lock:
            if name in self._fns:
                raise ValueError(f"task {name!r} is registered already")
            if name not in self._specs:
                self._specs[name] = TaskSpec(name, key or name, check or check_json)
            self._fns[name] = fn

    def register_due(self, name: str, fn: Callable[[], Iterable[Any]]) -> None:
        """Add a due source: `fn()` returns the arguments of task `name` that are owed now."""
        self.spec(name)
        self.register_due_items(lambda: ((name, item) for item in fn()), label=name)

    def register_due_items(
        self, fn: Callable[[], Iterable[tuple[str, Any]]], *, label: str = "items"
    ) -> None:
        """Add a due source for several tasks at once: `fn()` returns (task, argument) pairs
        (one query for many kinds of work)."""
        with self._lock:
            self._due.append((label, fn))

    def spec(self, name: str) -> TaskSpec:
        """The task's spec; ValueError for an unknown task."""
        try:
            return self._specs[name]
        except KeyError:
            raise ValueError(f"unknown task {name!r}") from None

    def fn(self, name: str) -> Callable[[Any], object]:
        """The task's function; ValueError when none is registered in this process."""
        try:
            return self._fns[name]
        except KeyError:
            raise ValueError(f"no function registered for task {name!r}") from None

    def names(self) -> list[str]:
        """Every task with a function, in registration order."""
        return list(self._fns)

    def due(self) -> list[tuple[str, Any]]:
        """Everything owed now, as (task, argument); a failing source is logged and skipped."""
        found: list[tuple[str, Any]] = []
        for label, source in list(self._due):
            try:
                found.extend(source())
            except Exception as exc:
                log.error("sweep failed: %s (due source %s)", describe_failure(exc), label)
        return found
