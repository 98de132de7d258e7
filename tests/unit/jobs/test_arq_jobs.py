"""ArqJobs against a fake arq pool, and the choice between the two runners."""

from __future__ import annotations

import logging

import pytest
from arq.connections import RedisSettings
from redis.exceptions import ConnectionError as RedisConnectionError

from kamidesk.jobs import ArqJobs, InProcessJobs, JobsNotRunning, describe_failure, make_jobs
from kamidesk.settings import Settings
from kamidesk.worker import sweep_cron


class FakePool:
    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.jobs: dict[str, tuple[str, object, str]] = {}

    async def enqueue_job(self, function, arg, *, _job_id, _queue_name):  # type: ignore[no-untyped-def]
        if self.down:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")
        if _job_id in self.jobs:
            return None
        self.jobs[_job_id] = (function, arg, _queue_name)
        return object()

    async def exists(self, key: str) -> int:
        return 0


class Runtime:
    def __init__(self, **values: object) -> None:
        self.settings = Settings(_env_file=None, **values)

    def uow(self):  # type: ignore[no-untyped-def]
        raise AssertionError("not used")


async def test_triggers_become_arq_jobs_with_one_job_id_per_order():
    pool = FakePool()
    jobs = ArqJobs(RedisSettings(), queue_name="q1", pool=pool)  # type: ignore[arg-type]
    await jobs.start()
    await jobs.trigger_delivery("KM0001")
    await jobs.trigger_delivery("KM0001")
    await jobs.trigger_refund(9)
    await jobs.stop()
    assert pool.jobs == {
        "q1:deliver:KM0001": ("deliver_order", "KM0001", "q1"),
        "q1:refund:9": ("push_refund", 9, "q1"),
    }


async def test_a_trigger_while_redis_is_down_is_logged_not_raised(caplog):
    jobs = ArqJobs(RedisSettings(), pool=FakePool(down=True))  # type: ignore[arg-type]
    await jobs.start()
    with caplog.at_level(logging.WARNING, logger="kamidesk.jobs"):
        await jobs.trigger_delivery("KM0002")
    assert "the sweep will pick it up" in caplog.text


async def test_an_arq_trigger_before_start_is_refused():
    jobs = ArqJobs(RedisSettings())
    with pytest.raises(JobsNotRunning):
        await jobs.trigger_delivery("KM0003")


async def test_arq_triggers_check_their_input():
    jobs = ArqJobs(RedisSettings(), pool=FakePool())  # type: ignore[arg-type]
    await jobs.start()
    with pytest.raises(ValueError, match="order_no"):
        await jobs.trigger_delivery("")
    with pytest.raises(ValueError, match="refund_id"):
        await jobs.trigger_refund(-3)


def test_redis_url_selects_arq_and_its_absence_the_in_process_runner():
    assert isinstance(make_jobs(Runtime(redis_url="redis://cache:6379/2")), ArqJobs)
    assert isinstance(make_jobs(Runtime(redis_url=None)), InProcessJobs)


def test_a_failure_description_names_the_place_but_not_the_message():
    try:
        raise ValueError("card key ABCD-1234-SECRET")
    except ValueError as exc:
        text = describe_failure(exc)
    assert text.startswith("ValueError in test_a_failure_description")
    assert "SECRET" not in text


@pytest.mark.parametrize(
    ("interval", "seconds"),
    [(2.0, set(range(0, 60, 2))), (0.2, set(range(60))), (15, {0, 15, 30, 45}), (600, {0})],
)
def test_the_cron_sweep_follows_the_configured_interval(interval, seconds):
    job = sweep_cron(interval)
    assert job.name == "sweep"
    assert job.second == seconds
    assert job.run_at_startup


class FakeQueue:
    """What the worker's sweep uses of its Redis connection."""

    default_queue_name = "q9"

    def __init__(self) -> None:
        self.jobs: dict[str, tuple[str, object]] = {}

    async def enqueue_job(self, function, arg, *, _job_id):  # type: ignore[no-untyped-def]
        if _job_id in self.jobs:
            return None
        self.jobs[_job_id] = (function, arg)
        return object()

    def pipeline(self, transaction: bool):  # type: ignore[no-untyped-def]
        return NoClaims()


class NoClaims:
    """A queued job nobody has claimed: the sweep finds no in-progress marker to release."""

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        return self

    async def __aexit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        return None

    async def watch(self, key: str) -> None:
        return None

    async def pttl(self, key: str) -> int:
        return -2


class Box:
    """A container with a runner whose registry has a package's task."""

    def __init__(self) -> None:
        self.jobs = ArqJobs(RedisSettings(), pool=FakePool())  # type: ignore[arg-type]
        self.sent: list[str] = []
        self.jobs.register_task("bot.send_notice", self.sent.append, key="notice")
        self.jobs.register_due("bot.send_notice", lambda: ["tg:1", "tg:2"])


async def test_a_task_another_package_registers_is_an_arq_function_and_is_swept():
    from kamidesk.worker import sweep, task_function, worker_functions

    box, queue = Box(), FakeQueue()
    ctx = {"container": box, "redis": queue}
    assert [f.name for f in worker_functions(["deliver_order", "bot.send_notice"])] == [
        "deliver_order",
        "bot.send_notice",
    ]
    assert await sweep(ctx) == 2
    assert await sweep(ctx) == 0  # queued already: the job ids dedupe
    assert queue.jobs == {
        "q9:notice:tg:1": ("bot.send_notice", "tg:1"),
        "q9:notice:tg:2": ("bot.send_notice", "tg:2"),
    }
    assert await task_function("bot.send_notice")(ctx, "tg:1") == "done"
    assert box.sent == ["tg:1"]


async def test_a_package_task_is_triggered_by_name_with_its_own_job_id():
    pool = FakePool()
    jobs = ArqJobs(RedisSettings(), queue_name="q2", pool=pool)  # type: ignore[arg-type]
    jobs.register_task("desk.sla_timer", lambda ticket: None, key="sla")
    await jobs.start()
    await jobs.trigger("desk.sla_timer", 41)
    await jobs.trigger("desk.sla_timer", 41)
    with pytest.raises(ValueError, match="unknown task"):
        await jobs.trigger("desk.nope", 1)
    with pytest.raises(ValueError, match="JSON"):
        await jobs.trigger("desk.sla_timer", object())
    assert pool.jobs == {"q2:sla:41": ("desk.sla_timer", 41, "q2")}
