"""Types of the core schema."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, Union

PathLike = Union[str, Path, Any]  # Any stands for UPath, which is imported lazily
"""A local path, a cloud path (`UPath`) or their string."""

DataLike = Union[PathLike, Any]
"""Data that a `File` can be made of: a path or an in-memory object."""


class TransformType(str, enum.Enum):
    """What a transform is."""

    pipeline = "pipeline"
    notebook = "notebook"
    app = "app"

    def __str__(self) -> str:
        return self.value
