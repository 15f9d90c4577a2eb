"""Writes to a cloud SQLite instance: under the bucket lock, then uploaded."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


def _cloud_sqlite_instance():
    """The loaded instance if Django writes into its cloud SQLite cache copy, else `None`.

    Django may point at another database than the loaded instance's (while `init`
    creates a new instance, say): then there is nothing of ours to lock or upload.
    """
    from lamindb_setup import settings
    from lamindb_setup.dev._django import configured_db

    if not settings._instance_exists:
        return None
    isettings = settings.instance
    if not isettings.is_cloud_sqlite:
        return None
    if configured_db() != f"sqlite:///{isettings._sqlite_file_local.as_posix()}":
        return None
    return isettings


@contextlib.contextmanager
def instance_write() -> Iterator[None]:
    """Hold the write lock of a cloud SQLite instance around a write, then upload.

    Before the write, a newer cloud copy is downloaded; after a successful write the
    local copy is uploaded. Inside a block that holds the lock already, or inside a
    transaction, the write only runs: synchronizing is that block's job (a
    `save()` within the user's own `transaction.atomic()` reaches the cloud with the
    next save outside it). Local and Postgres instances just run.
    """
    isettings = _cloud_sqlite_instance()
    if isettings is None:
        yield
        return
    from django.db import connection, connections

    locker = isettings._cloud_sqlite_locker
    if locker.has_lock or connection.in_atomic_block:
        # the caller's block synchronizes; closing connections here would break it
        yield
        return

    with locker:
        connections.close_all()
        isettings._update_local_sqlite_file()
        yield
        connections.close_all()
        isettings._update_cloud_sqlite_file()
