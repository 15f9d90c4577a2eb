"""Write settings files: atomically, owner-readable only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ._settings_store import (
    INSTANCE_KEYS,
    USER_KEYS,
    current_instance_settings_file,
    current_user_settings_file,
    instance_settings_file,
    user_settings_file_email,
    user_settings_file_handle,
)

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings
    from ._settings_user import UserSettings


def write_settings_file(path: Path, values: dict[str, str | None]) -> None:
    """Write `key=value` lines (`null` for `None`) via a 0600 temp file and a rename."""
    lines = []
    for key, value in values.items():
        text = "null" if value is None else str(value)
        if "\n" in text or "\r" in text:
            raise ValueError(f"Setting {key} must not contain a line break")
        lines.append(f"{key}={text}\n")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def user_settings_values(user: UserSettings) -> dict[str, str | None]:
    return {key: getattr(user, key) for key in USER_KEYS}


def instance_settings_values(isettings: InstanceSettings) -> dict[str, str | None]:
    values = {
        "owner": isettings.owner,
        "name": isettings.name,
        "storage_root": isettings.storage.root_as_str,
        "storage_region": isettings.storage.region,
        "db": isettings._db_setting,
        "schema_str": isettings._schema_str,
    }
    assert tuple(values) == INSTANCE_KEYS
    return values


def save_user_settings(user: UserSettings) -> None:
    """Write the current user file and the per-email and per-handle cache files."""
    values = user_settings_values(user)
    write_settings_file(current_user_settings_file(), values)
    if user.email is not None:
        write_settings_file(user_settings_file_email(user.email), values)
    if user.handle is not None:
        write_settings_file(user_settings_file_handle(user.handle), values)


def save_instance_settings(isettings: InstanceSettings, *, make_current: bool = True) -> None:
    """Write `instance--{owner}--{name}.env` and, by default, `current_instance.env`."""
    values = instance_settings_values(isettings)
    write_settings_file(instance_settings_file(isettings.name, isettings.owner), values)
    if make_current:
        write_settings_file(current_instance_settings_file(), values)
