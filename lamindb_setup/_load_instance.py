"""`load`: make an existing instance the current one."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from .dev import _logger as logger
from .dev._errors import SetupRuntimeError


def load(
    identifier: str,
    *,
    migrate: Optional[bool] = None,
    storage: Optional[Union[str, Path]] = None,
    _log_error_message: bool = True,
) -> Optional[str]:
    """Load an instance by `name`, `owner/name` or `https://lamin.ai/owner/name`.

    Args:
        identifier: The instance; the owner defaults to the logged-in user's handle.
        migrate: Deploy pending migrations instead of warning about them.
        storage: A new storage root, e.g. after the storage folder moved.
    """
    from ._silence_loggers import silence_loggers
    from .dev._instance import find_instance, parse_identifier, require_user
    from .dev._storage import local_root_exists, normalize_root

    silence_loggers()
    user = require_user()
    owner, name = parse_identifier(identifier, user.handle)
    isettings = find_instance(owner, name, user.access_token)
    if isettings is None:
        if _log_error_message:
            logger.error(
                f"Instance {owner}/{name} was found neither on the hub nor in local settings: "
                "check the name or init it with `lamin init`"
            )
        return "instance-not-reachable"

    new_root = None
    if storage is not None:
        from ._hub import validate_storage_root_arg

        validate_storage_root_arg(str(storage))
        new_root = normalize_root(storage)
        same_root = new_root == isettings.storage.root_as_str
        isettings = isettings._with_storage(
            new_root, isettings.storage.region if same_root else None
        )
    if not local_root_exists(isettings.storage.root_as_str):
        raise SetupRuntimeError(
            f"Storage root does not exist: {isettings.storage.root_as_str}; if you moved it, "
            f"pass its new location: lamin load {owner}/{name} --storage <new root>"
        )
    is_setup, reason = isettings._is_db_setup()
    if not is_setup:
        raise SetupRuntimeError(f"Instance {owner}/{name} is not set up: {reason}")

    from .dev._django import django_is_configured, setup_django
    from .dev._setup_schema import mark_instance_loaded

    if django_is_configured():
        setup_django(isettings)  # re-point this process's Django at the new instance
    # otherwise Django is configured on first use of the models (_check_instance_setup)
    _check_migrations(isettings, migrate)
    if new_root is not None and isettings.dialect == "sqlite":
        setup_django(isettings)
        _move_storage_row(isettings)
    _register_user_and_storage(isettings, user)
    isettings._persist()
    mark_instance_loaded()
    logger.success(f"Loaded instance: {isettings.identifier}")
    return None


def _check_migrations(isettings, migrate: Optional[bool]) -> None:
    """Refuse a database newer than the code; deploy or warn about pending migrations."""
    from .dev._django import check_apps_installed, schema_apps
    from .dev._setup_schema import (
        migrations_in_sync,
        pending_migrations,
        raise_if_database_newer,
    )

    apps = schema_apps(isettings)
    check_apps_installed(isettings, apps)  # also when Django is not needed below
    if migrations_in_sync(isettings, apps):
        return  # nothing to plan
    from .dev._django import setup_django

    setup_django(isettings)
    raise_if_database_newer(isettings)
    pending = pending_migrations()
    if not pending:
        return
    if migrate:
        from ._migrate import deploy_pending

        if deploy_pending(isettings) == "migrate-failed":
            raise SetupRuntimeError(
                f"Could not deploy the migrations of {isettings.identifier} (see above); "
                "it was not loaded"
            )
    else:
        logger.warning(
            f"Instance {isettings.identifier} has pending migrations: {', '.join(pending)}; "
            f"apply them with `lamin migrate deploy` (or `lamin load {isettings.identifier} "
            "--migrate`)"
        )


def _move_storage_row(isettings) -> None:
    """After a SQLite instance's storage moved: point its single Storage row at the new root."""
    from lnschema_core.models import Storage

    rows = list(Storage.objects.all()[:2])
    if len(rows) > 1:
        raise SetupRuntimeError(
            f"Instance {isettings.identifier} has several storage locations; "
            "cannot tell which one moved"
        )
    if rows and rows[0].root != isettings.storage.root_as_str:
        with isettings._cloud_sqlite_locker:
            Storage.objects.filter(id=rows[0].id).update(root=isettings.storage.root_as_str)
            _upload_if_cloud(isettings)


def _register_user_and_storage(isettings, user) -> None:
    from .dev._dbprobe import is_registered
    from .dev._setup_schema import register_user_and_storage

    if is_registered(isettings, user):
        return  # nothing to write: no Django, no lock, no upload
    from .dev._django import setup_django

    setup_django(isettings)
    with isettings._cloud_sqlite_locker:
        if isettings.is_cloud_sqlite:
            isettings._update_local_sqlite_file()
        register_user_and_storage(isettings, user)
        _upload_if_cloud(isettings)


def _upload_if_cloud(isettings) -> None:
    if isettings.is_cloud_sqlite:
        from django.db import connections

        connections.close_all()
        isettings._update_cloud_sqlite_file()
