"""Core schema of LaminDB: a Django app with users, storage, files, transforms and runs.

Importing this package is cheap; the models are imported on first access, which
sets up Django for the loaded instance (`lamindb_setup._check_instance_setup()`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.35a4"

_MODELS = (
    "BaseORM",
    "User",
    "Storage",
    "Project",
    "Transform",
    "Run",
    "RunInput",
    "Features",
    "Folder",
    "File",
    "NoResultFound",
    "MultipleResultsFound",
)

if TYPE_CHECKING:
    from .models import (  # noqa: F401
        BaseORM,
        Features,
        File,
        Folder,
        MultipleResultsFound,
        NoResultFound,
        Project,
        Run,
        RunInput,
        Storage,
        Transform,
        User,
    )


def __getattr__(name: str):
    if name in _MODELS:
        from lamindb_setup._check_instance_setup import _check_instance_setup

        if not _check_instance_setup():
            raise ImportError(
                f"Cannot import {name}: no instance is loaded. Run `lamin load <instance>` "
                "or `lamin init --storage <root>` first."
            )
        models = importlib.import_module(".models", __name__)
        return getattr(models, name)
    if name in ("ids", "types"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lnschema_core' has no attribute {name!r}")
