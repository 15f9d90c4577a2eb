"""The bucket lock for cloud SQLite writers, against a moto S3 server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lamindb_setup.dev._errors import SetupRuntimeError
from lamindb_setup.dev._exclusion import (
    CloudSQLiteLocker,
    EmptyLocker,
    _clear_lockers,
    get_locker,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root(bucket):
    """A storage root with a key prefix inside the test bucket."""
    return f"s3://{bucket}/storage"


@pytest.fixture
def client(s3):
    import boto3

    return boto3.client("s3", endpoint_url=s3)


@pytest.fixture(autouse=True)
def fresh_locker_cache():
    _clear_lockers()
    yield
    _clear_lockers()


def _lock_body(client, bucket) -> dict | None:
    try:
        response = client.get_object(Bucket=bucket, Key="storage/.lamindb/_lock/inst.lock")
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(response["Body"].read())


def _locker(root, user="user1", **kwargs) -> CloudSQLiteLocker:
    kwargs.setdefault("timeout", 5)
    kwargs.setdefault("poll_interval", 0.1)
    return CloudSQLiteLocker(root, "inst", user, **kwargs)


def test_lock_and_unlock(root, bucket, client):
    locker = _locker(root)
    assert locker.uri == f"s3://{bucket}/storage/.lamindb/_lock/inst.lock"
    assert not locker.has_lock
    locker.lock()
    assert locker.has_lock
    body = _lock_body(client, bucket)
    assert body["state"] == "held"
    assert body["owner"]["user_id"] == "user1"
    assert body["owner"]["pid"] == os.getpid()
    assert body["owner"]["token"] == locker.owner["token"]
    assert body["lease_seconds"] == 1800
    assert body["expires_at"] > body["acquired_at"]
    locker.unlock()
    assert not locker.has_lock
    assert _lock_body(client, bucket) is None
    locker.unlock()  # idempotent
    locker.lock()  # and it can be taken again
    assert locker.has_lock
    locker.unlock()


def test_other_user_times_out_naming_the_holder(root):
    holder = _locker(root, "user1")
    holder.lock()
    other = _locker(root, "user2", timeout=1)
    start = time.monotonic()
    with pytest.raises(SetupRuntimeError) as error:
        other.lock()
    waited = time.monotonic() - start
    assert 1 <= waited < 4
    message = str(error.value)
    assert "user1" in message
    assert holder.owner["hostname"] in message
    assert f"pid {os.getpid()}" in message
    assert "until" in message
    assert not other.has_lock
    assert holder.has_lock
    holder.unlock()


def test_same_user_in_two_lockers_excludes(root):
    first = _locker(root, "user1")
    second = _locker(root, "user1", timeout=0.5)
    with first:
        with pytest.raises(SetupRuntimeError):
            second.lock()
    with second:
        assert second.has_lock


def test_waiting_sleeps_between_attempts(root):
    holder = _locker(root)
    holder.lock()
    waiter = _locker(root, "user2", timeout=1.0, poll_interval=0.2)
    with pytest.raises(SetupRuntimeError):
        waiter.lock()
    # jittered pauses of 0.1-0.3 s in one second: a handful of attempts, not hundreds
    assert 2 <= waiter._attempts <= 12
    holder.unlock()


def test_expired_lease_is_taken_over(root, bucket, client, capsys):
    crashed = _locker(root, "user1", lease_seconds=1)
    crashed.lock()
    successor = _locker(root, "user2", timeout=10, poll_interval=0.2)
    start = time.monotonic()
    successor.lock()
    assert time.monotonic() - start < 6
    assert successor.has_lock
    assert not crashed.has_lock  # its lease ran out
    assert _lock_body(client, bucket)["owner"]["token"] == successor.owner["token"]
    # the late unlock of the old holder must not free the successor's lock
    crashed.unlock()
    assert "run out" in capsys.readouterr().err
    assert _lock_body(client, bucket)["owner"]["token"] == successor.owner["token"]
    successor.unlock()
    assert _lock_body(client, bucket) is None


def test_unlock_by_non_owner_does_not_release(root, bucket, client):
    holder = _locker(root, "user1")
    holder.lock()
    stranger = _locker(root, "user2", timeout=0.5)
    stranger.unlock()
    assert _lock_body(client, bucket)["owner"]["token"] == holder.owner["token"]
    with pytest.raises(SetupRuntimeError):
        stranger.lock()
    stranger.unlock()  # after a failed lock() too
    assert _lock_body(client, bucket)["owner"]["token"] == holder.owner["token"]
    holder.unlock()


def test_exception_inside_with_releases(root, bucket, client):
    locker = _locker(root)
    with pytest.raises(ValueError):
        with locker:
            assert _lock_body(client, bucket) is not None
            raise ValueError("boom")
    assert not locker.has_lock
    assert _lock_body(client, bucket) is None
    with _locker(root, "user2", timeout=0.5) as other:
        assert other.has_lock


def test_lock_is_reentrant_for_the_same_object(root, bucket, client):
    locker = _locker(root)
    with locker:
        with locker:
            assert locker.has_lock
        assert locker.has_lock
        assert _lock_body(client, bucket) is not None
    assert not locker.has_lock
    assert _lock_body(client, bucket) is None


def test_released_or_garbled_lock_objects_are_free(root, bucket, client):
    key = "storage/.lamindb/_lock/inst.lock"
    released = {"state": "released", "owner": {"user_id": "user9"}, "lease_seconds": 1800}
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(released).encode())
    locker = _locker(root, timeout=1)
    with locker:
        assert _lock_body(client, bucket)["owner"]["token"] == locker.owner["token"]
    client.put_object(Bucket=bucket, Key=key, Body=b"not json")
    with locker:
        assert locker.has_lock


def test_lock_object_with_our_token_is_ours(root, bucket, client):
    # as after a PUT that went through but whose answer was lost and retried
    locker = _locker(root, timeout=1)
    body = {"state": "held", "owner": locker.owner, "lease_seconds": 1800}
    key = "storage/.lamindb/_lock/inst.lock"
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode())
    with locker:
        assert locker._attempts == 1
        assert locker.has_lock
    assert _lock_body(client, bucket) is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_share_the_parents_lock(root):
    import multiprocessing

    parent = _locker(root, timeout=0.5)
    parent.lock()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child():
        try:
            parent.lock()
            queue.put("got the lock")
        except SetupRuntimeError:
            queue.put("excluded")

    process = context.Process(target=child)
    process.start()
    process.join(30)
    assert queue.get(timeout=5) == "excluded"
    assert parent.has_lock
    parent.unlock()


def test_renew_extends_the_lease(root, bucket, client):
    locker = _locker(root, lease_seconds=2)
    with locker:
        time.sleep(1.2)
        locker.renew()
        time.sleep(1.2)
        # without the renewal the lease would have run out by now
        assert locker.has_lock
        with pytest.raises(SetupRuntimeError):
            _locker(root, "user2", timeout=0.3).lock()


def test_get_locker_chooses_and_caches(root, capsys):
    cloud = get_locker(root, "inst", "user1", True, timeout=3)
    assert isinstance(cloud, CloudSQLiteLocker)
    assert cloud.timeout == 3
    assert get_locker(root + "/", "inst", "user1", True) is cloud
    assert get_locker(root, "inst", "user2", True) is not cloud
    assert isinstance(get_locker("/data/mydata", "inst", "user1", False), EmptyLocker)
    assert isinstance(get_locker(root, "other", "user1", False), EmptyLocker)

    gs = get_locker("gs://bucket/folder", "inst", "user1", True)
    assert isinstance(gs, EmptyLocker)
    assert "gs://bucket/folder" in capsys.readouterr().err


def test_empty_locker_does_nothing():
    locker = EmptyLocker()
    with locker:
        with locker:
            assert locker.has_lock
    locker.unlock()
    locker.lock()
    assert locker.has_lock


_COUNTER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import boto3
    from lamindb_setup.dev._exclusion import CloudSQLiteLocker

    root, bucket = sys.argv[1], sys.argv[2]
    client = boto3.client("s3")
    locker = CloudSQLiteLocker(root, "inst", "user1", timeout=60, poll_interval=0.05)
    for _ in range(10):
        with locker:
            try:
                body = client.get_object(Bucket=bucket, Key="counter")["Body"].read()
                value = int(body)
            except client.exceptions.NoSuchKey:
                value = 0
            time.sleep(0.05)
            client.put_object(Bucket=bucket, Key="counter", Body=str(value + 1).encode())
    """
)


def test_two_processes_lose_no_write(root, bucket, client):
    env = dict(os.environ)  # carries the moto endpoint and dummy credentials
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _COUNTER_SCRIPT, root, bucket],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
    counter = client.get_object(Bucket=bucket, Key="counter")["Body"].read()
    assert int(counter) == 20
    assert _lock_body(client, bucket) is None
