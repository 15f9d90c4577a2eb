"""Local file operations that never leave a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path


def temporary_sibling(path: Path) -> Path:
    """A unique hidden name next to `path`, for writing before a rename."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def copy_file_atomic(source: Path, destination: Path) -> None:
    """Copy via a temporary sibling and a rename; the copy gets the umask's permissions."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling(destination)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
