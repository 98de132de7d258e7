"""Background work: named tasks that run outside requests, and a sweep that never forgets.

The database is the source of truth. A trigger only says "look at this now"; the periodic sweep
asks every registered *due source* what is still owed, straight from the tables, so a lost
trigger, a dead process or an emptied queue delays work but never loses it.

Packages add work without editing this module:

    jobs.register_task("deliver_order", fn)   # fn(arg) -> object: sync, one JSON-able argument,
                                              # runs in a thread (or an arq worker)
    jobs.register_due("deliver_order", due)   # due() -> items owed now, one task run each
    await jobs.trigger("deliver_order", "KM1")
    jobs.trigger_threadsafe("dispatch_event", 42)   # from worker threads (on_commit hooks)

Two runners share the `Jobs` protocol:
- `InProcessJobs`: the embedded default (no Redis). Tasks run in a small thread pool next to
  the web app, plus a sweep task every `settings.sweep_interval_seconds`.
- `ArqJobs`: production. Triggers become arq jobs on Redis, run by `kamidesk worker` processes
  (`kamidesk.worker`), whose cron sweep asks the same due sources.

Errors:

    ValueError          a trigger of an unknown task, or with an argument the task refuses
    JobsNotRunning      (RuntimeError) a trigger before `start()` or after `stop()`

A failing task is logged (exception type and where it happened, never its message, which might
carry customer data) and never stops the runner; the sweep picks the work up again.
"""

from __future__ import annotations

from arq.connections import RedisSettings

from kamidesk.failures import describe_failure
from kamidesk.jobs.base import Jobs, JobsNotRunning, Runtime
from kamidesk.jobs.in_process import InProcessJobs
from kamidesk.jobs.redis_queue import QUEUE_NAME, ArqJobs
from kamidesk.jobs.registry import (
    CORE_TASKS,
    DELIVER_JOB,
    DISPATCH_JOB,
    REFUND_JOB,
    REISSUE_JOB,
    TaskRegistry,
    TaskSpec,
    check_json,
    check_order_no,
    check_outbox_id,
    check_refund_id,
    check_request_id,
    job_id,
)

__all__ = [
    "CORE_TASKS",
    "DELIVER_JOB",
    "DISPATCH_JOB",
    "QUEUE_NAME",
    "REFUND_JOB",
    "REISSUE_JOB",
    "ArqJobs",
    "InProcessJobs",
    "Jobs",
    "JobsNotRunning",
    "TaskRegistry",
    "TaskSpec",
    "check_json",
    "check_order_no",
    "check_outbox_id",
    "check_refund_id",
    "check_request_id",
    "describe_failure",
    "job_id",
    "make_jobs",
]


def make_jobs(runtime: Runtime) -> Jobs:
    """ArqJobs when REDIS_URL is set, else the in-process runner (embedded default)."""
    url = runtime.settings.redis_url
    if url:
        return ArqJobs(RedisSettings.from_dsn(url))
    return InProcessJobs(runtime)
