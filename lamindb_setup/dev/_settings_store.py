"""Where the settings files live and which keys they hold."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

USER_KEYS = ("email", "password", "access_token", "id", "handle", "name")
INSTANCE_KEYS = ("owner", "name", "storage_root", "storage_region", "db", "schema_str")

_migrated_legacy: set[Path] = set()


def lamin_env() -> str:
    """The value of `LAMIN_ENV` (default `prod`)."""
    return os.environ.get("LAMIN_ENV", "prod") or "prod"


def file_prefix() -> str:
    """`staging-` when `LAMIN_ENV=staging`, else empty."""
    return "staging-" if lamin_env() == "staging" else ""


def settings_dir() -> Path:
    """`~/.lamin`, created with mode 0700; files of a legacy `~/.lndb` are moved in."""
    path = Path.home() / ".lamin"
    if path in _migrated_legacy and path.is_dir():
        return path
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    _migrate_legacy_dir(Path.home() / ".lndb", path)
    _migrated_legacy.add(path)
    return path


def _migrate_legacy_dir(legacy: Path, target: Path) -> None:
    if not legacy.is_dir():
        return
    for item in legacy.iterdir():
        destination = target / item.name
        if destination.exists() or not item.is_file():
            continue  # never overwrite what ~/.lamin has already
        shutil.copy2(item, destination)
        os.chmod(destination, 0o600)
        item.unlink()
    try:
        legacy.rmdir()
    except OSError:
        pass  # keep a legacy dir that still holds something we did not move


def current_user_settings_file() -> Path:
    return settings_dir() / f"{file_prefix()}current_user.env"


def user_settings_file_email(email: str) -> Path:
    return settings_dir() / f"{file_prefix()}user--{email}.env"


def user_settings_file_handle(handle: str) -> Path:
    return settings_dir() / f"{file_prefix()}user--{handle}.env"


def current_instance_settings_file() -> Path:
    return settings_dir() / f"{file_prefix()}current_instance.env"


def instance_settings_file(name: str, owner: str) -> Path:
    return settings_dir() / f"{file_prefix()}instance--{owner}--{name}.env"
