"""`delete`: remove one of your instances' settings and database file."""

from __future__ import annotations

from typing import Optional

from .dev import _logger as logger
from .dev._errors import SetupRuntimeError


def delete(instance_name: str) -> Optional[str]:
    """Delete an instance of yours: settings, cache and SQLite file; never the stored data."""
    from ._hub import get_hub
    from ._settings import settings
    from .dev._instance import parse_identifier, require_user
    from .dev._settings_load import load_instance_settings
    from .dev._settings_store import current_instance_settings_file, instance_settings_file

    user = require_user()
    owner, name = parse_identifier(instance_name, user.handle)
    if owner != user.handle:
        raise SetupRuntimeError(
            f"You can only delete your own instances, not {owner}/{name}: log in as {owner}"
        )
    settings_file = instance_settings_file(name, owner)
    if not settings_file.exists():
        logger.warning(f"Instance {owner}/{name} does not exist locally, nothing to delete")
        return None
    isettings = load_instance_settings(settings_file)

    if settings._instance_exists:
        current = current_instance_settings_file()
        try:
            is_current = settings.instance.identifier == isettings.identifier
        except Exception:
            is_current = False
        if is_current:
            current.unlink(missing_ok=True)
            settings._set_instance(None)
    if isettings.dialect == "sqlite":
        _delete_sqlite_file(isettings)
    else:
        logger.info(
            f"The Postgres database of {isettings.identifier} is not dropped; "
            "drop it yourself if you no longer need it"
        )
    get_hub().delete_instance(owner, name)  # no-op for an unregistered instance
    settings_file.unlink(missing_ok=True)
    logger.success(f"Deleted instance {isettings.identifier}")
    logger.hint(
        f"The data in the storage root {isettings.storage.root_as_str} was kept; "
        "delete it by hand if you no longer need it"
    )
    return None


def _delete_sqlite_file(isettings) -> None:
    local = isettings._sqlite_file_local
    if isettings.storage.is_cloud:
        with isettings._cloud_sqlite_locker:
            cloud = isettings._sqlite_file
            if cloud.exists():
                cloud.unlink()
        local.unlink(missing_ok=True)
        isettings._sqlite_version_file.unlink(missing_ok=True)
        _remove_empty_dirs(local.parent, stop=isettings.storage.cache_dir)
    else:
        local.unlink(missing_ok=True)
    _close_django_connections_to(local)


def _remove_empty_dirs(folder, *, stop) -> None:
    """Remove now-empty cache folders up to, not including, the cache root."""
    while stop is not None and folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _close_django_connections_to(path) -> None:
    from .dev._django import configured_db, django_is_configured

    if django_is_configured() and configured_db() and str(path) in configured_db():
        from django.db import connections

        connections.close_all()
