"""Set up LaminDB instances: users, instances, storage, schema modules.

Import as `import lamindb_setup as ln_setup`. Everything below is loaded on first
use so that importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.46a4"

# a real attribute: importing the submodule of the same name must not shadow the function
from ._check_instance_setup import _check_instance_setup  # noqa: E402, F401

# public name -> (module, attribute)
_LAZY = {
    "settings": ("._settings", "settings"),
    "signup": ("._setup_user", "signup"),
    "login": ("._setup_user", "login"),
    "init": ("._init_instance", "init"),
    "load": ("._load_instance", "load"),
    "close": ("._close", "close"),
    "delete": ("._delete", "delete"),
    "info": ("._info", "info"),
    "set": ("._set", "set"),
    "set_storage": ("._set", "set_storage"),
    "register": ("._register_instance", "register"),
    "migrate": ("._migrate", "migrate"),
    "schema": ("._schema", "schema"),
    "track": ("._notebook", "track"),
    "dev": (".dev", None),
}

__all__ = [
    "settings",
    "signup",
    "login",
    "init",
    "load",
    "close",
    "delete",
    "info",
    "set",
    "set_storage",
    "register",
    "migrate",
    "schema",
    "track",
    "dev",
]

if TYPE_CHECKING:
    from . import dev
    from ._close import close
    from ._delete import delete
    from ._info import info
    from ._init_instance import init
    from ._load_instance import load
    from ._migrate import migrate
    from ._notebook import track
    from ._register_instance import register
    from ._schema import schema
    from ._set import set, set_storage
    from ._settings import settings
    from ._setup_user import login, signup


def __getattr__(name: str):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'lamindb_setup' has no attribute {name!r}") from None
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
