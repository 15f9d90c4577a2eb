"""The hub: accounts and the registry of instances, behind one interface.

`get_hub()` gives the backend that the configuration asks for:
- `LAMIN_HUB_URL` set: the HTTP hub at that URL (`RemoteHub`);
- `LAMIN_HUB_DIR` set: the embedded hub in that directory, which lets several
  HOMEs on one machine share accounts and instances;
- otherwise: the embedded hub in `~/.lamin`.

Importing this package loads only the standard library; the HTTP backend loads
`requests` and `pydantic` when it is chosen.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._base import Hub, InstanceRecord, StorageRecord
from ._embedded import EmbeddedHub
from ._validate import (
    get_schema_module_name,
    get_storage_region,
    validate_db_arg,
    validate_schema_arg,
    validate_storage_root_arg,
)

if TYPE_CHECKING:
    from ._remote import RemoteHub

__all__ = [
    "EmbeddedHub",
    "Hub",
    "InstanceRecord",
    "RemoteHub",
    "StorageRecord",
    "get_hub",
    "get_schema_module_name",
    "get_storage_region",
    "validate_db_arg",
    "validate_schema_arg",
    "validate_storage_root_arg",
]


def get_hub() -> Hub:
    """The hub that `LAMIN_HUB_URL` / `LAMIN_HUB_DIR` select (default: embedded in `~/.lamin`).

    With `LAMIN_ENV=staging` the default embedded hub is `~/.lamin/staging-hub/`.
    """
    url = os.environ.get("LAMIN_HUB_URL", "").strip()
    if url:
        from ._remote import RemoteHub

        return RemoteHub(url)
    directory = os.environ.get("LAMIN_HUB_DIR", "").strip()
    if directory:
        return EmbeddedHub(Path(directory).expanduser())
    from ..dev._settings_store import file_prefix, settings_dir

    if file_prefix():  # staging has its own accounts and registry, as it had its own hub
        return EmbeddedHub(settings_dir() / f"{file_prefix()}hub")
    return EmbeddedHub(settings_dir())


def __getattr__(name: str):
    if name == "RemoteHub":
        from ._remote import RemoteHub

        return RemoteHub
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
