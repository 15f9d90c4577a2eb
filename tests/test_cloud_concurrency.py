"""Several processes and machines writing one cloud SQLite instance: no write is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

import lamindb_setup as ln_setup
from lamindb_setup._settings import settings

pytestmark = pytest.mark.s3

INCREMENT = """
import sys
import lamindb_setup as ln_setup
ln_setup.load(sys.argv[1])
from lnschema_core._sync import instance_write
from lnschema_core.models import Transform
for _ in range(int(sys.argv[2])):
    with instance_write():  # lock, refresh the cache copy, ..., upload, unlock
        counter = Transform.objects.get(name="counter")
        counter.title = str(int(counter.title) + 1)
        counter.save()
print("done")
"""

HOLD_LOCK = """
import sys, time
import lamindb_setup as ln_setup
ln_setup.load(sys.argv[1])
ln_setup.settings.instance._cloud_sqlite_locker.lock()
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def shared_hub(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LAMIN_HUB_DIR", str(tmp_path_factory.mktemp("hub")))


def machine_env(home: Path, email: str, password: str | None = None) -> dict:
    """Environment of a 'machine': its own HOME and cache, logged in as `email`."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    command = ["signup", email] if password is None else ["login", email, "--password", password]
    result = subprocess.run(
        [sys.executable, "-m", "lamindb_setup", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return env


def cloud_counter(s3: str, bucket: str, tmp_path: Path) -> str:
    target = tmp_path / "probe.lndb"
    boto3.client("s3", endpoint_url=s3).download_file(bucket, f"{bucket}.lndb", str(target))
    with sqlite3.connect(target) as conn:
        return conn.execute(
            "SELECT title FROM lnschema_core_transform WHERE name = 'counter'"
        ).fetchone()[0]


def test_four_writers_lose_no_increment(shared_hub, user, s3, bucket, home, tmp_path, monkeypatch):
    monkeypatch.setenv("LAMIN_CLOUD_LOCK_TIMEOUT", "300")
    ln_setup.init(storage=f"s3://{bucket}")
    from lnschema_core._sync import instance_write
    from lnschema_core.models import Transform

    with instance_write():
        Transform(name="counter", title="0").save()
    password = settings.user.password
    envs = [
        machine_env(tmp_path / "m1", "testuser1@lamin.ai", password),  # same user twice
        machine_env(tmp_path / "m2", "testuser1@lamin.ai", password),
        machine_env(tmp_path / "m3", "testuser2@lamin.ai"),
        machine_env(tmp_path / "m4", "testuser3@lamin.ai"),
    ]
    start = time.monotonic()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", INCREMENT, f"testuser1/{bucket}", "25"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in envs
    ]
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert out.strip().endswith("done")
    duration = time.monotonic() - start
    print(f"4 x 25 locked increments took {duration:.1f} s")
    assert cloud_counter(s3, bucket, tmp_path) == "100"


def test_killed_lock_holder_does_not_block_others(
    shared_hub, user, s3, bucket, tmp_path, monkeypatch
):
    monkeypatch.setenv("LAMIN_CLOUD_LOCK_LEASE", "3")
    monkeypatch.setenv("LAMIN_CLOUD_LOCK_TIMEOUT", "60")
    ln_setup.init(storage=f"s3://{bucket}")
    from lnschema_core._sync import instance_write
    from lnschema_core.models import Transform

    with instance_write():
        Transform(name="counter", title="0").save()
    password = settings.user.password
    holder_env = machine_env(tmp_path / "holder", "testuser1@lamin.ai", password)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, f"testuser1/{bucket}"],
        env=holder_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    while not lines or lines[-1] != "locked":
        line = holder.stdout.readline()
        assert line, f"holder ended early: {lines} {holder.stderr.read()}"
        lines.append(line.strip())
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    other_env = machine_env(tmp_path / "other", "testuser2@lamin.ai")
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", INCREMENT, f"testuser1/{bucket}", "1"],
        env=other_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start >= 1.0  # it had to wait for the lease to run out
    assert cloud_counter(s3, bucket, tmp_path) == "1"
