"""Read settings files into settings objects; the only place that parses them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import SettingsFileError
from ._settings_store import INSTANCE_KEYS, USER_KEYS

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings
    from ._settings_user import UserSettings


def parse_settings_file(path: Path, keys: tuple[str, ...], fix: str) -> dict[str, str | None]:
    """The values of `keys` in an `.env` file; `null` becomes `None`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsFileError(f"Cannot read settings file {path} ({exc}); {fix}") from None
    values: dict[str, str | None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise SettingsFileError(f"Cannot parse line {number} of settings file {path}; {fix}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = None if value in ("null", "") else value
    missing = [key for key in keys if key not in values]
    if missing:
        raise SettingsFileError(f"Settings file {path} lacks {', '.join(missing)}; {fix}")
    return {key: values[key] for key in keys}


def load_user_settings(path: Path) -> UserSettings:
    """The user settings stored in `path`."""
    from ._settings_user import UserSettings

    fix = "delete it and run `lamin login <email>` again"
    return UserSettings(**parse_settings_file(path, USER_KEYS, fix))


def load_instance_settings(path: Path) -> InstanceSettings:
    """The instance settings stored in `path`."""
    from ._settings_instance import InstanceSettings

    fix = "delete it and run `lamin init` or `lamin load` again"
    values = parse_settings_file(path, INSTANCE_KEYS, fix)
    for required in ("owner", "name", "storage_root"):
        if values[required] is None:
            raise SettingsFileError(f"Settings file {path} has no {required}; {fix}")
    return InstanceSettings(
        owner=values["owner"],
        name=values["name"],
        storage_root=values["storage_root"],
        storage_region=values["storage_region"],
        db=values["db"],
        schema=values["schema_str"],
    )
