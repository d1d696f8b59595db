"""PLT-6: background jobs and schedules."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from huey import RedisHuey, SqliteHuey
from huey.contrib.djhuey import HUEY

from kestrel.jobs.scheduling import SCHEDULES, next_run, periodic_job
from kestrel.jobs.tasks import job_runs_prune, jobs_selftest

REPO = Path(__file__).resolve().parents[3]


def test_plt6_periodic_schedules_are_read_in_beijing_time():
    @periodic_job(minute="0", hour="2")
    def nightly_probe():
        return None

    due = nightly_probe.kestrel_due
    assert due(datetime(2026, 11, 23, 18, 0))  # 18:00 UTC = 02:00 in Beijing
    assert not due(datetime(2026, 11, 24, 2, 0))
    assert SCHEDULES["nightly_probe"] == "0 2 * * * (Asia/Shanghai)"
    assert None not in SCHEDULES
    after = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 Beijing
    assert next_run(due, after=after) == datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def test_plt6_bad_schedule_is_refused_at_declaration():
    with pytest.raises(ValueError):
        periodic_job(minute="61")


@pytest.mark.django_db
def test_plt6_jobs_run_inline_in_tests():
    assert jobs_selftest("ping")() == "ping"
    assert job_runs_prune.call_local() == 0


# --- A real consumer process ---------------------------------------------------------------------


def _kestrel(*args: str, env: dict, **kwargs) -> subprocess.Popen | subprocess.CompletedProcess:
    command = [sys.executable, "-m", "kestrel", *args]
    log = kwargs.pop("log", None)
    if log is not None:
        # A file, not a pipe: an unread pipe would block a chatty worker.
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture
def installation(tmp_path):
    """A separate Kestrel installation on disk: its own SQLite database, queue file and var dir."""
    env = {
        **os.environ,
        "KESTREL_VAR_DIR": str(tmp_path),
        "KESTREL_DATABASE_URL": f"sqlite:///{tmp_path / 'kestrel.sqlite3'}",
        "KESTREL_QUEUE_FILE": str(tmp_path / "jobs.sqlite3"),
        "KESTREL_QUEUE_NAME": f"kestrel-test-{os.getpid()}",
        "DJANGO_SETTINGS_MODULE": "kestrel.settings",
    }
    env.pop("KESTREL_JOBS_IMMEDIATE", None)
    _kestrel("migrate", "-v", "0", env=env)
    return tmp_path, env


def _wait_for(query_result, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = query_result()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("timed out waiting for the worker")


def _rows(database: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        connection.close()


def _run_worker_and_enqueue(tmp_path: Path, env: dict, queue) -> None:
    log = (tmp_path / "worker.log").open("w")
    worker = _kestrel("worker", "--workers", "2", env=env, log=log)
    try:
        database = tmp_path / "kestrel.sqlite3"

        # The worker lists periodic jobs with their next run as soon as it starts.
        def periodic_jobs_listed():
            rows = dict(_rows(database, "select name, next_run_at from jobs_jobstate where periodic = 1"))
            return rows if {"job_runs_prune", "outbox_sweep"} <= rows.keys() else None

        periodic = _wait_for(periodic_jobs_listed)
        assert all(periodic.values()), periodic

        for task in (
            jobs_selftest.s("hello"),
            jobs_selftest.s("flaky", fail_first=1),
            jobs_selftest.s("doomed", fail_first=9),
        ):
            # Serialised by the app's own huey (which knows the task), written to the worker's queue.
            queue.storage.enqueue(HUEY.serialize_task(task), 0)

        def finished():
            rows = _rows(database, "select status from jobs_jobrun where name = 'jobs_selftest'")
            statuses = sorted(status for (status,) in rows)
            # hello: 1 run; flaky: 2 runs (retry); doomed: 3 runs (2 retries, then dead).
            return statuses if len(rows) == 6 and "running" not in statuses else None

        statuses = _wait_for(finished, timeout=45)
        assert statuses == ["failed", "retrying", "retrying", "retrying", "succeeded", "succeeded"]
        (state,) = _rows(
            database,
            "select last_status, failure_count, last_error from jobs_jobstate where name='jobs_selftest'",
        )
        assert state[1] == 4 and "planned self-test failure" in state[2]
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def test_plt6_real_worker_process_runs_jobs_retries_and_records_failures_on_sqlite(installation):
    tmp_path, env = installation
    queue = SqliteHuey(env["KESTREL_QUEUE_NAME"], filename=env["KESTREL_QUEUE_FILE"], utc=True)
    _run_worker_and_enqueue(tmp_path, env, queue)


def test_plt6_real_worker_process_on_redis(installation):
    redis_url = os.environ.get("KESTREL_TEST_REDIS")
    if not redis_url:
        pytest.skip("KESTREL_TEST_REDIS not set (CI sets it)")
    tmp_path, env = installation
    env = {**env, "KESTREL_REDIS_URL": redis_url}
    queue = RedisHuey(env["KESTREL_QUEUE_NAME"], url=redis_url, utc=True)
    queue.flush()
    try:
        _run_worker_and_enqueue(tmp_path, env, queue)
    finally:
        queue.flush()
