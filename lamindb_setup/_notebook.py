"""`track`: give a Jupyter notebook nbproject metadata (id, version, time_init)."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Optional, Union

from .dev import _logger as logger
from .dev._errors import SetupValueError


def _package_versions(pypackage: Optional[str]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in (pypackage or "").split(","):
        name = name.strip()
        if not name:
            continue
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise SetupValueError(f"Package {name!r} is not installed: check --pypackage") from None
    return versions


def _write_json_atomic(path: Path, content: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(content, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def track(filepath: Union[str, Path], pypackage: Optional[str] = None) -> None:
    """Add nbproject metadata to a notebook; asks before changing existing metadata."""
    from lnschema_core import ids

    path = Path(filepath)
    if path.suffix != ".ipynb":
        raise SetupValueError(f"{path} is not a notebook: pass a .ipynb file")
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupValueError(f"Notebook {path} does not exist: check the path") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SetupValueError(f"{path} is not a valid notebook file (invalid JSON)") from None
    meta = notebook.setdefault("metadata", {})
    existing = meta.get("nbproject")
    if existing:
        answer = _ask(
            f"{path} already has nbproject metadata (id {existing.get('id')}). Replace it? [y/N] "
        )
        if answer not in ("y", "yes"):
            logger.info(f"Kept the existing metadata of {path}")
            return None
    nbproject = {
        "id": ids.base62(12),
        "version": "0",
        "time_init": datetime.now(timezone.utc).isoformat(),
    }
    versions = _package_versions(pypackage)
    if versions:
        nbproject["pypackage"] = versions
    meta["nbproject"] = nbproject
    _write_json_atomic(path, notebook)
    logger.success(f"Added nbproject metadata to {path}: id {nbproject['id']}, version 0")
    return None


def _ask(question: str) -> str:
    try:
        return input(question).strip().lower()
    except EOFError:  # no terminal: never change metadata without consent
        return ""
