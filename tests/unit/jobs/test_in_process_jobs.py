"""InProcessJobs with fake work: threads, dedupe, the periodic sweep, error isolation."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field

import pytest

from fulfilment.services.recovery import DueWork
from kamidesk.jobs import DELIVER_JOB, REFUND_JOB, REISSUE_JOB, InProcessJobs, JobsNotRunning
from kamidesk.settings import Settings
from kamidesk.wiring import due_items


class FakeRuntime:
    def __init__(self, interval: float = 0.01) -> None:
        self.settings = Settings(_env_file=None, sweep_interval_seconds=interval)

    def uow(self):  # type: ignore[no-untyped-def]
        raise AssertionError("fake work never opens a unit of work")


@dataclass
class FakeWork:
    """Records calls; `gate` holds deliveries until set; `explode` lists failing orders."""

    delivered: list[str] = field(default_factory=list)
    refunded: list[int] = field(default_factory=list)
    reissued: list[str] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    gate: threading.Event = field(default_factory=threading.Event)
    explode: set[str] = field(default_factory=set)
    due_answers: list[DueWork | Exception] = field(default_factory=list)
    due_calls: int = 0
    active: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.gate.set()

    def deliver(self, order_no: str) -> str:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.threads.add(threading.current_thread().name)
            assert self.gate.wait(5)
            if order_no in self.explode:
                raise RuntimeError(f"boom, key was SECRET-KEY-{order_no}")
            self.delivered.append(order_no)
            return "delivered"
        finally:
            with self.lock:
                self.active -= 1

    def refund(self, refund_id: int) -> str:
        self.refunded.append(refund_id)
        return "succeeded"

    def reissue(self, request_id: str) -> str:
        self.reissued.append(request_id)
        return "reissued"

    def due(self) -> DueWork:
        self.due_calls += 1
        if self.due_answers:
            answer = self.due_answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return DueWork([], [])


def make_runner(work: FakeWork, interval: float = 3600, **options) -> InProcessJobs:  # type: ignore[no-untyped-def]
    """An in-process runner whose core tasks and due source are the fake work's."""
    jobs = InProcessJobs(FakeRuntime(interval=interval), **options)
    jobs.register_task(DELIVER_JOB, work.deliver)
    jobs.register_task(REFUND_JOB, work.refund)
    jobs.register_task(REISSUE_JOB, work.reissue)
    jobs.tasks.register_due_items(lambda: due_items(work.due()))
    return jobs


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


@pytest.fixture
async def runner():  # type: ignore[no-untyped-def]
    work = FakeWork()
    jobs = make_runner(work, 3600, max_workers=4)
    await jobs.start()
    yield jobs, work
    await jobs.stop(grace=1)


async def test_a_triggered_delivery_runs_in_a_worker_thread(runner):
    jobs, work = runner
    await jobs.trigger_delivery("KM0001")
    await jobs.drain()
    assert work.delivered == ["KM0001"]
    assert all(name.startswith("kamidesk-job") for name in work.threads)


async def test_a_triggered_refund_runs(runner):
    jobs, work = runner
    await jobs.trigger_refund(7)
    await jobs.drain()
    assert work.refunded == [7]


async def test_triggers_for_a_running_order_coalesce_into_one_more_pass(runner):
    jobs, work = runner
    work.gate.clear()
    await jobs.trigger_delivery("KM0002")
    await until(lambda: work.active == 1)
    for _ in range(5):
        await jobs.trigger_delivery("KM0002")
    assert jobs.busy == 1
    work.gate.set()
    await jobs.drain()
    # One pass was running; the five triggers that came meanwhile need exactly one more.
    assert work.delivered == ["KM0002", "KM0002"]


async def test_different_orders_run_in_parallel_up_to_the_pool_size(runner):
    jobs, work = runner
    work.gate.clear()
    for n in range(6):
        await jobs.trigger_delivery(f"KM10{n}")
    await until(lambda: work.active == 4)
    work.gate.set()
    await jobs.drain()
    assert sorted(work.delivered) == [f"KM10{n}" for n in range(6)]
    assert work.peak == 4


async def test_a_failing_job_is_logged_without_its_message_and_the_runner_goes_on(runner, caplog):
    jobs, work = runner
    work.explode.add("KM0003")
    with caplog.at_level(logging.ERROR, logger="kamidesk.jobs"):
        await jobs.trigger_delivery("KM0003")
        await jobs.drain()
    await jobs.trigger_delivery("KM0004")
    await jobs.drain()
    assert work.delivered == ["KM0004"]
    assert "deliver:KM0003 failed: RuntimeError in deliver" in caplog.text
    assert "SECRET-KEY" not in caplog.text


async def test_the_sweep_runs_periodically_and_survives_its_own_failure(caplog):
    work = FakeWork()
    work.due_answers = [
        DueWork(["KM0005"], [3], ["rq-9"]),
        OSError("database went away"),
        DueWork(["KM0006"], []),
    ]
    jobs = make_runner(work, 0.01)
    with caplog.at_level(logging.ERROR, logger="kamidesk.jobs"):
        await jobs.start()
        await until(lambda: "KM0006" in work.delivered)
        await jobs.stop()
    assert work.delivered == ["KM0005", "KM0006"]
    assert work.refunded == [3]
    assert work.reissued == ["rq-9"]
    assert "sweep failed: OSError" in caplog.text


async def test_the_sweep_does_not_queue_an_order_that_is_already_running(runner):
    jobs, work = runner
    work.gate.clear()
    await jobs.trigger_delivery("KM0007")
    await until(lambda: work.active == 1)
    work.due_answers = [DueWork(["KM0007", "KM0008"], [])]
    assert await jobs.sweep_once() == 2
    work.gate.set()
    await jobs.drain()
    assert sorted(work.delivered) == ["KM0007", "KM0008"]


async def test_stop_ends_the_sweep(caplog):
    work = FakeWork()
    jobs = make_runner(work, 0.01)
    await jobs.start()
    await until(lambda: work.due_calls >= 2)
    await jobs.stop()
    calls = work.due_calls
    await asyncio.sleep(0.05)
    assert work.due_calls == calls
    await jobs.stop()  # idempotent


async def test_stop_gives_up_on_a_job_that_outlives_the_grace_period():
    work = FakeWork()
    work.gate.clear()
    jobs = make_runner(work, 3600)
    await jobs.start()
    await jobs.trigger_delivery("KM0009")
    await until(lambda: work.active == 1)
    await jobs.stop(grace=0.01)
    assert jobs.busy == 0
    work.gate.set()  # let the orphaned thread finish


async def test_a_trigger_before_start_is_refused():
    jobs = make_runner(FakeWork(), 0.01)
    with pytest.raises(JobsNotRunning):
        await jobs.trigger_delivery("KM0010")


@pytest.mark.parametrize("bad", ["", "   ", "K" * 65, None, 12])
async def test_a_malformed_order_number_is_refused(runner, bad):
    jobs, _ = runner
    with pytest.raises(ValueError, match="order_no"):
        await jobs.trigger_delivery(bad)
    assert jobs.busy == 0


@pytest.mark.parametrize("bad", [0, -1, True, "5", 1.5])
async def test_a_malformed_refund_id_is_refused(runner, bad):
    jobs, _ = runner
    with pytest.raises(ValueError, match="refund_id"):
        await jobs.trigger_refund(bad)


def test_a_non_positive_sweep_interval_is_refused():
    with pytest.raises(ValueError, match="interval"):
        make_runner(FakeWork(), 0)


async def test_stop_waits_for_a_sweep_that_is_still_reading_the_database():
    work = FakeWork()
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_due() -> DueWork:
        entered.set()
        release.wait(5)
        finished.set()
        return DueWork([], [])

    work.due = slow_due  # type: ignore[method-assign]
    jobs = make_runner(work, 3600)
    await jobs.start()
    await until(entered.is_set)
    threading.Timer(0.05, release.set).start()
    await jobs.stop(grace=5)
    assert finished.is_set()  # the caller may now dispose of the engine safely


async def test_a_task_triggered_from_another_thread_runs_in_the_pool():
    jobs = InProcessJobs(FakeRuntime(interval=3600))
    sent: list[tuple[str, str]] = []
    jobs.register_task(
        "bot.send_notice", lambda to: sent.append((to, threading.current_thread().name))
    )
    with pytest.raises(JobsNotRunning):
        jobs.trigger_threadsafe("bot.send_notice", "tg:1")
    await jobs.start()
    try:
        caller = threading.Thread(target=jobs.trigger_threadsafe, args=("bot.send_notice", "tg:1"))
        caller.start()
        await asyncio.to_thread(caller.join)
        await until(lambda: bool(sent))
        await jobs.drain()
    finally:
        await jobs.stop()
    assert [to for to, _ in sent] == ["tg:1"]
    assert sent[0][1].startswith("kamidesk-job")


async def test_a_due_source_of_another_package_is_swept_with_the_core():
    work = FakeWork()
    jobs = make_runner(work, 3600)
    reminders: list[int] = []
    jobs.register_task("desk.sla_timer", reminders.append, key="sla")
    jobs.register_due("desk.sla_timer", lambda: [7, 8])
    work.due_answers = [DueWork(["KM0011"], [])]
    await jobs.start()
    try:
        assert await jobs.sweep_once() == 3
        await jobs.drain()
    finally:
        await jobs.stop()
    assert (work.delivered, sorted(reminders)) == (["KM0011"], [7, 8])


def test_a_task_name_is_registered_once():
    jobs = InProcessJobs(FakeRuntime(interval=3600))
    jobs.register_task("bot.send_notice", print)
    with pytest.raises(ValueError, match="registered already"):
        jobs.register_task("bot.send_notice", print)
    with pytest.raises(ValueError, match="unknown task"):
        jobs.register_due("bot.unknown", list)
