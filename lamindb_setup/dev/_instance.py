"""Shared steps of the instance verbs: names, the logged-in owner, finding an instance."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Union
from urllib.parse import urlsplit

from ._errors import SetupValueError
from ._storage import storage_type

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings
    from ._settings_user import UserSettings

_NAME = re.compile(r"^[a-z0-9_-][a-z0-9_.-]*$")
_HUB_PREFIXES = ("https://lamin.ai/", "http://lamin.ai/")


def validate_instance_name(name: str, *, what: str = "instance name") -> str:
    """The name if it is a valid instance name, else a `ValueError` suggesting `--name`."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise SetupValueError(
            f"Invalid {what} {name!r}: use lower-case letters, digits, '-', '_' and '.' "
            "(not starting with '.'), e.g. pass --name my-instance"
        )
    return name


def infer_instance_name(
    storage: Union[str, Path], name: str | None = None, db: str | None = None
) -> str:
    """`name`, else the db name, else the bucket name, else the storage folder name."""
    if name is not None:
        candidate = str(name)
    elif db is not None:
        candidate = urlsplit(db).path.rstrip("/").rsplit("/", 1)[-1]
    elif storage_type(str(storage)) != "local":
        candidate = str(storage).split("://", 1)[1].strip("/").split("/", 1)[0]
    else:
        candidate = Path(str(storage)).expanduser().resolve().name
    return validate_instance_name(candidate.lower())


def parse_identifier(identifier: str, default_owner: str) -> tuple[str, str]:
    """`(owner, name)` of `name`, `owner/name` or `https://lamin.ai/owner/name`."""
    if not isinstance(identifier, str) or not identifier.strip():
        raise SetupValueError("Pass an instance: lamin load <name|owner/name>")
    text = identifier.strip()
    for prefix in _HUB_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.strip("/")
    parts = text.split("/")
    if len(parts) == 1:
        owner, name = default_owner, parts[0]
    elif len(parts) == 2:
        owner, name = parts
    else:
        raise SetupValueError(
            f"Invalid instance identifier {identifier!r}: use <name>, <owner>/<name> or "
            "https://lamin.ai/<owner>/<name>"
        )
    if not owner or any(char in owner for char in "/\\ ") or owner.startswith("."):
        raise SetupValueError(f"Invalid owner {owner!r} in instance identifier {identifier!r}")
    return owner, validate_instance_name(name)


def require_user() -> UserSettings:
    """The logged-in user with an id; raises an error telling how to log in."""
    from .._settings import settings

    return settings.user


def find_instance(owner: str, name: str, access_token: str | None) -> InstanceSettings | None:
    """Settings of `owner/name` from the hub, else from the local settings file, else None."""
    from .._hub import get_hub
    from . import _logger as logger
    from ._errors import SetupError
    from ._settings_instance import InstanceSettings
    from ._settings_load import load_instance_settings
    from ._settings_store import instance_settings_file

    try:
        response = get_hub().load_instance(owner=owner, name=name, access_token=access_token)
    except SetupError as exc:  # an unreachable hub must not lock users out of local instances
        logger.warning(f"{exc}; looking for {owner}/{name} in the local settings")
        response = "instance-not-reachable"
    if not isinstance(response, str):
        instance, storage = response
        return InstanceSettings(
            owner=owner,
            name=name,
            storage_root=storage.root,
            storage_region=storage.region,
            db=instance.db,
            schema=instance.schema_str,
        )
    path = instance_settings_file(name, owner)
    if path.exists():
        return load_instance_settings(path)
    return None
