"""Developer API: settings classes, storage, upath helpers, Django setup."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_LAZY = {
    "UserSettings": ("._settings_user", "UserSettings"),
    "InstanceSettings": ("._settings_instance", "InstanceSettings"),
    "StorageSettings": ("._storage", "StorageSettings"),
    "Storage": ("._storage", "StorageSettings"),
    "upath": (".upath", None),
    "setup_django": ("._django", "setup_django"),
    "deprecated": ("._deprecated", "deprecated"),
}

__all__ = [
    "UserSettings",
    "InstanceSettings",
    "StorageSettings",
    "Storage",
    "upath",
    "setup_django",
    "deprecated",
]

if TYPE_CHECKING:
    from . import upath
    from ._deprecated import deprecated
    from ._django import setup_django
    from ._settings_instance import InstanceSettings
    from ._settings_user import UserSettings
    from ._storage import StorageSettings
    from ._storage import StorageSettings as Storage


def __getattr__(name: str):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'lamindb_setup.dev' has no attribute {name!r}") from None
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value
