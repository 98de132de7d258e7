"""A production arq worker in a process of its own, for tests that kill it with SIGKILL.

    python -m tests.integration.jobs.dying_worker QUEUE

Environment: DATABASE_URL, REDIS_URL, KEY_ENCRYPTION_KEY (demo mode, no suppliers). It runs the
production job functions with no cron sweep, so the only thing it does is take jobs.
"""

from __future__ import annotations

import sys

from arq.connections import RedisSettings
from arq.worker import Worker

from kamidesk.bootstrap import build
from kamidesk.jobs import ArqJobs
from kamidesk.settings import Settings
from kamidesk.worker import WorkerSettings, on_shutdown, on_startup


def main(queue: str) -> None:
    settings = Settings(_env_file=None, demo_mode=True)  # type: ignore[call-arg]
    assert settings.redis_url, "REDIS_URL is required"
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    worker = Worker(
        functions=WorkerSettings.functions,
        queue_name=queue,
        redis_settings=redis_settings,
        keep_result=WorkerSettings.keep_result,
        job_timeout=WorkerSettings.job_timeout,
        poll_delay=0.05,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        # Its runner enqueues what its jobs trigger on the test's queue, not the default one.
        ctx={"container": build(settings, jobs=ArqJobs(redis_settings, queue_name=queue))},
        handle_signals=False,
    )
    worker.run()


if __name__ == "__main__":
    main(sys.argv[1])
