"""An example schema module used only by the tests (version v1).

Like `lnschema_core`, it imports its models only when they are asked for, after
setting up Django for the loaded instance: `from lnschema_testmod import Thing`.
"""

__version__ = "0.1.0"

_MODELS = ("Thing",)


def __getattr__(name: str):
    if name in _MODELS:
        from lamindb_setup._check_instance_setup import _check_instance_setup

        if not _check_instance_setup():
            raise ImportError(f"Cannot import {name}: no instance is loaded")
        from . import models

        return getattr(models, name)
    raise AttributeError(f"module 'lnschema_testmod' has no attribute {name!r}")
