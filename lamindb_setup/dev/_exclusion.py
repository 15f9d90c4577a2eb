"""Exclusive writes to a cloud SQLite file: a lease lock that lives in the bucket.

Writers of a cloud SQLite instance hold this lock while they download, change and
upload the database file, so no write is lost when several users write at once.

Lock object: one per instance, at

    {storage_root}/.lamindb/_lock/{instance_name}.lock

with a JSON body

    {"state": "held" | "released",
     "owner": {"user_id": ..., "hostname": ..., "pid": ..., "token": ...},
     "acquired_at": "<ISO 8601, UTC>", "expires_at": "<ISO 8601, UTC>",
     "lease_seconds": 1800}

The random `token` differs for every locker object, so two processes of the same user
exclude each other.

Protocol, on S3 conditional writes (one request decides; no read-then-write races):
- acquire: PUT with `If-None-Match: *`, which succeeds only if there is no lock object;
- if there is one and it is released, unreadable, or its lease ran out, take it over
  with PUT `If-Match: <its ETag>`; of several contenders only one can match;
- renew: PUT `If-Match: <our ETag>` with a fresh lease;
- release: DELETE `If-Match: <our ETag>` (or, where a store refuses conditional deletes,
  PUT a "released" body with `If-Match`), so a holder whose lease ran out and was taken
  over can never remove the new holder's lock.

Leases are judged by the store's clock (`Last-Modified` of the lock plus its
`lease_seconds`, against the `Date` of the response), not by the machines' clocks, so
a crashed holder frees the lock after the lease (default 30 minutes, as the original's
stale entries) whatever the clock skew between users.

After each successful write the lock is read back once: stores whose conditional
writes are not atomic (moto, some S3-compatible servers) may let two writers pass the
same condition, and the read-back lets the overwritten one notice and back off.

Only `s3://` storage has conditional writes here; for other cloud stores (`gs://`)
`get_locker` logs a warning and returns an `EmptyLocker` (no exclusion).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Union

from . import _logger as logger
from ._errors import SetupRuntimeError

LOCK_FOLDER = ".lamindb/_lock"
DEFAULT_LEASE_SECONDS = 30 * 60

# Whole-second clocks of object stores: judge a lease expired only one second late.
_CLOCK_SLACK = timedelta(seconds=1)


def lock_key(prefix: str, instance_name: str) -> str:
    """The object key of an instance's lock below the storage root's key `prefix`."""
    key = f"{LOCK_FOLDER}/{instance_name}.lock"
    prefix = prefix.strip("/")
    return f"{prefix}/{key}" if prefix else key


def _split_s3_root(storage_root: str) -> tuple[str, str]:
    if not storage_root.startswith("s3://"):
        raise ValueError(f"not an s3:// storage root: {storage_root}")
    bucket, _, prefix = storage_root[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in storage root: {storage_root}")
    return bucket, prefix.strip("/")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _error_code(error: Exception) -> tuple[str, int]:
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def _is_condition_failure(error: Exception) -> bool:
    """Another writer won: the precondition failed or raced with a concurrent write."""
    code, status = _error_code(error)
    return status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict")


def _is_missing(error: Exception) -> bool:
    code, status = _error_code(error)
    return status == 404 or code in ("NoSuchKey", "NotFound", "404")


def _is_unsupported(error: Exception) -> bool:
    code, status = _error_code(error)
    return status == 501 or code in ("NotImplemented", "InvalidArgument")


class _LockState:
    """What a read of the lock object found."""

    def __init__(self, etag: str, body: dict | None, expires: datetime, free: bool):
        self.etag = etag
        self.body = body
        self.expires = expires
        self.free = free

    def is_ours(self, token: str) -> bool:
        body = self.body or {}
        return body.get("state") == "held" and (body.get("owner") or {}).get("token") == token

    def describe_holder(self) -> str:
        owner = (self.body or {}).get("owner") or {}
        return (
            f"user {owner.get('user_id', '?')} on {owner.get('hostname', '?')} "
            f"(pid {owner.get('pid', '?')}) until {_local_time(self.expires)}"
        )


class CloudSQLiteLocker:
    """An exclusive lease on an instance's cloud SQLite file, kept in its S3 bucket.

    `lock()` waits (sleeping `poll_interval` seconds with jitter between attempts) up
    to `timeout` seconds, then raises `SetupRuntimeError` naming the holder. Nested
    `lock()` calls on the same object only count; the lock is released by the matching
    last `unlock()`. Use it as a context manager: an exception inside `with` releases
    it too. One object excludes other objects and processes, not threads sharing it.

    `endpoint_url`, `profile` and `client_kwargs` configure the botocore client; by
    default it reads the same environment as s3fs (`AWS_ENDPOINT_URL`, credentials).
    """

    # Pause before the read-back that detects non-atomic conditional writes.
    verify_delay = 0.05

    def __init__(
        self,
        storage_root: str,
        instance_name: str,
        user_id: str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        timeout: float = 60,
        poll_interval: float = 0.5,
        endpoint_url: str | None = None,
        profile: str | None = None,
        client_kwargs: dict | None = None,
    ):
        self.storage_root = storage_root.rstrip("/")
        self.instance_name = instance_name
        self.user_id = user_id
        self.lease_seconds = lease_seconds
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.bucket, prefix = _split_s3_root(self.storage_root)
        self.key = lock_key(prefix, instance_name)
        self.owner = {
            "user_id": user_id,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "token": secrets.token_hex(8),
        }
        self._endpoint_url = endpoint_url
        self._profile = profile
        self._client_kwargs = dict(client_kwargs or {})
        self._client: Any = None
        self._etag: str | None = None
        self._lease_deadline = 0.0  # time.monotonic() when our lease surely ends
        self._count = 0
        self._attempts = 0  # acquisition attempts, for diagnostics and tests

    def __repr__(self) -> str:
        return f"CloudSQLiteLocker({self.uri!r}, held={self.has_lock})"

    @property
    def uri(self) -> str:
        """The lock object's URL."""
        return f"s3://{self.bucket}/{self.key}"

    @property
    def has_lock(self) -> bool:
        """Whether this object holds the lock and its lease has not run out."""
        return self._etag is not None and time.monotonic() < self._lease_deadline

    # --- S3 access ------------------------------------------------------------------------

    @property
    def _s3(self):
        if self._client is None:
            from ._s3 import s3_client

            kwargs = dict(self._client_kwargs)
            if self._endpoint_url:
                kwargs.setdefault("endpoint_url", self._endpoint_url)
            self._client = s3_client(self._profile, **kwargs)
        return self._client

    def _body(self, state: str) -> bytes:
        now = _utc_now()
        body = {
            "state": state,
            "owner": self.owner,
            "acquired_at": _iso(now),
            "expires_at": _iso(now + timedelta(seconds=self.lease_seconds)),
            "lease_seconds": self.lease_seconds,
        }
        return json.dumps(body, sort_keys=True).encode()

    def _put(self, state: str, **condition: str) -> str:
        response = self._s3.put_object(
            Bucket=self.bucket,
            Key=self.key,
            Body=self._body(state),
            ContentType="application/json",
            **condition,
        )
        return response["ETag"]

    def _read(self) -> _LockState | None:
        """The lock object as it is now; `None` if there is none."""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=self.key)
        except Exception as error:
            if _is_missing(error):
                return None
            raise
        raw = response["Body"].read()
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                body = None
        except ValueError:
            body = None
        lease = self.lease_seconds
        if body is not None and isinstance(body.get("lease_seconds"), (int, float)):
            lease = body["lease_seconds"]
        last_modified = response["LastModified"]
        if last_modified.tzinfo is None:
            last_modified = last_modified.replace(tzinfo=timezone.utc)
        expires = last_modified + timedelta(seconds=lease) + _CLOCK_SLACK
        free = body is None or body.get("state") != "held" or _server_now(response) > expires
        return _LockState(response["ETag"], body, expires, free)

    # --- acquiring and releasing -------------------------------------------------------

    def _confirm(self, etag: str, started: float) -> bool:
        """Read back the lock after our write; keep it only if our write is still there."""
        if self.verify_delay:
            time.sleep(self.verify_delay)
        state = self._read()
        if state is None or state.etag != etag:
            return False
        self._etag = etag
        self._lease_deadline = started + self.lease_seconds
        return True

    def _try_acquire(self) -> tuple[bool, _LockState | None]:
        """One attempt: whether we got the lock, and else what we found in the way."""
        self._attempts += 1
        started = time.monotonic()
        try:
            etag = self._put("held", IfNoneMatch="*")
        except Exception as error:
            if not _is_condition_failure(error):
                raise
        else:
            return (True, None) if self._confirm(etag, started) else (False, self._read())
        state = self._read()
        # a lock with our token is ours already (a retried PUT whose first attempt went
        # through): rewrite it like a free one, which also refreshes its lease
        if state is None or not (state.free or state.is_ours(self.owner["token"])):
            return False, state
        try:
            etag = self._put("held", IfMatch=state.etag)
        except Exception as error:
            if _is_condition_failure(error) or _is_missing(error):
                return False, self._read()
            raise
        return (True, None) if self._confirm(etag, started) else (False, self._read())

    def lock(self) -> None:
        """Acquire the lock, waiting at most `timeout` seconds."""
        if self.owner["pid"] != os.getpid():
            self._start_afresh_after_fork()
        if self._count > 0:
            # nested: keep the lease long enough for the outer block, or fail loudly
            if self._lease_deadline - time.monotonic() < self.lease_seconds / 2:
                self.renew()
            self._count += 1
            return
        deadline = time.monotonic() + self.timeout
        while True:
            acquired, holder = self._try_acquire()
            if acquired:
                self._count = 1
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                who = holder.describe_holder() if holder is not None else "another writer"
                raise SetupRuntimeError(
                    f"Could not get the write lock {self.uri} within {self.timeout:g} s: "
                    f"it is held by {who}. Try again later."
                )
            pause = self.poll_interval * random.uniform(0.5, 1.5)
            time.sleep(max(0.0, min(pause, remaining)))

    def _start_afresh_after_fork(self) -> None:
        """A forked child must not share its parent's token, lock or HTTP connections."""
        self.owner = {**self.owner, "pid": os.getpid(), "token": secrets.token_hex(8)}
        self._client = None
        self._etag = None
        self._count = 0

    def renew(self) -> None:
        """Extend our lease to `lease_seconds` from now; raise if we lost the lock."""
        if self._etag is None:
            raise SetupRuntimeError(f"Cannot renew the write lock {self.uri}: not held")
        started = time.monotonic()
        try:
            self._etag = self._put("held", IfMatch=self._etag)
        except Exception as error:
            if _is_condition_failure(error) or _is_missing(error):
                self._etag = None
                self._count = 0
                raise SetupRuntimeError(
                    f"Lost the write lock {self.uri}: the lease ran out and another "
                    "writer took it over"
                ) from error
            raise
        self._lease_deadline = started + self.lease_seconds

    def unlock(self) -> None:
        """Release the lock if this is the outermost `lock()` and we still own it."""
        if self._count == 0:
            return
        self._count -= 1
        if self._count > 0:
            return
        etag, self._etag = self._etag, None
        if etag is None:
            return
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=etag)
        except Exception as error:
            if _is_missing(error):  # gone already, e.g. a retried delete
                return
            if _is_condition_failure(error):
                logger.warning(
                    f"The lease on {self.uri} had run out and another writer took it over"
                )
                return
            if not _is_unsupported(error):
                raise
            self._release_by_overwrite(etag)

    def _release_by_overwrite(self, etag: str) -> None:
        """For stores without conditional deletes: mark our lock released instead."""
        try:
            self._put("released", IfMatch=etag)
        except Exception as error:
            if not (_is_condition_failure(error) or _is_missing(error)):
                raise

    def __enter__(self) -> CloudSQLiteLocker:
        self.lock()
        return self

    def __exit__(self, *exc_info) -> None:
        self.unlock()


def _server_now(response: dict) -> datetime:
    """The store's clock from a response's `Date` header; ours if it has none."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if date:
        try:
            return parsedate_to_datetime(date)
        except (TypeError, ValueError):
            pass
    return _utc_now()


class EmptyLocker:
    """The locker API doing nothing: local storage and Postgres need no bucket lock.

    `has_lock` is always true: with nothing to exclude, the caller may always write.
    """

    has_lock = True

    def __repr__(self) -> str:
        return "EmptyLocker()"

    def lock(self) -> None:
        pass

    def unlock(self) -> None:
        pass

    def renew(self) -> None:
        pass

    def __enter__(self) -> EmptyLocker:
        return self

    def __exit__(self, *exc_info) -> None:
        pass


Locker = Union[CloudSQLiteLocker, EmptyLocker]

_lockers: dict[tuple[str, str, str], Locker] = {}


def get_locker(
    storage_root: str, instance_name: str, user_id: str, is_cloud_sqlite: bool, **kwargs: Any
) -> Locker:
    """Give the process's locker for an instance: a bucket lock for cloud SQLite on S3.

    Lockers are cached per (storage root, instance name, user id); `kwargs` (e.g.
    `lease_seconds`, `timeout`, `endpoint_url`) only apply when one is first created.
    """
    root = str(storage_root).rstrip("/")
    cache_key = (root, instance_name, user_id)
    locker = _lockers.get(cache_key)
    if locker is not None:
        return locker
    if not is_cloud_sqlite:
        locker = EmptyLocker()
    elif root.startswith("s3://"):
        locker = CloudSQLiteLocker(root, instance_name, user_id, **kwargs)
    else:
        logger.warning(
            f"No write lock for SQLite on {root}: only s3:// storage supports it. "
            "Make sure only one writer at a time changes this instance."
        )
        locker = EmptyLocker()
    _lockers[cache_key] = locker
    return locker


def _clear_lockers() -> None:
    """Forget the cached lockers (tests, or after the settings changed)."""
    _lockers.clear()
