"""`Folder` from a path or from files: its files, saving them together, and its tree."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from lamindb_setup.dev import _logger as logger

from . import _file, _paths
from ._sync import instance_write

if TYPE_CHECKING:
    from .models import File, Folder

_BATCH = 500  # keys per query: SQLite limits the number of parameters


def fields_from_path(
    path: Any, *, key: str | None = None, name: str | None = None
) -> tuple[dict, list[File]]:
    """The field values of a `Folder` made from `path`, and one unsaved `File` per file.

    A folder in the storage root is registered where it is (key = relative path);
    any other folder is copied on `save()` to `root / (key or folder name)`.
    """
    from .models import File, Folder

    folderpath = _paths.as_path(path)
    if not _paths.is_dir(folderpath):
        if _paths.exists(folderpath):
            raise NotADirectoryError(f"{folderpath} is a file: register it with File(...)")
        raise FileNotFoundError(f"No such folder: {folderpath}")
    if key is not None:
        key = _paths.check_key(key)
    name = name or folderpath.name
    storage = _paths.default_storage()
    key_in_storage = _paths.key_in_root(folderpath, storage.root)
    if key_in_storage == ".":
        raise ValueError(f"{folderpath} is the storage root itself: register a folder inside it")
    if key_in_storage is not None and key is not None and key != key_in_storage:
        raise ValueError(
            f"{folderpath} is in the storage already, at key {key_in_storage!r}: it is "
            f"registered where it is, so drop key={key!r}"
        )
    in_storage = key_in_storage is not None
    folder_key = key_in_storage if in_storage else (key or _paths.check_key(folderpath.name))
    if Folder.objects.filter(storage=storage, key=folder_key).exists():
        raise ValueError(f"A folder with key {folder_key!r} is registered already")
    listing = _paths.list_files(folderpath)
    if not listing:
        raise ValueError(f"No files under {folderpath}")
    files = []
    for filepath, relative in listing:
        file_key = None if in_storage else f"{folder_key}/{relative}"
        fields, source = _file.fields_from_path(filepath, key=file_key, storage=storage)
        file = File(**fields)
        file._source = source
        files.append(file)
    destination = _paths.storage_path(storage.root, folder_key)
    if in_storage:
        logger.hint(f"folder is in the storage: registering its {len(files)} files, no copy")
    else:
        verb = "upload" if _paths.is_cloud(storage.root) else "copy"
        logger.hint(
            f"folder is outside the storage: folder.save() will {verb} its "
            f"{len(files)} files to {destination}"
        )
    return {"name": name, "key": folder_key, "storage": storage}, files


def fields_from_files(files: Any, *, name: str | None = None) -> tuple[dict, list[File]]:
    """The field values of a `Folder` grouping existing `File` objects (saved or not)."""
    from .models import File

    if isinstance(files, (str, bytes)) or not hasattr(files, "__iter__"):
        raise TypeError("files= takes a list of File objects")
    files = list(files)
    if not files:
        raise ValueError("Folder(files=...) needs at least one file")
    wrong = [f for f in files if not isinstance(f, File)]
    if wrong:
        raise TypeError(f"files= takes File objects, got {type(wrong[0]).__name__}")
    if not name:
        raise ValueError("Folder(files=...) needs a name: Folder(files=[...], name='my folder')")
    storage_ids = {f.storage_id for f in files}
    if len(storage_ids) > 1:
        raise ValueError("All files of a folder must be in one storage")
    return {"name": name, "key": None, "storage": files[0].storage}, files


def _check_keys_are_free(files: list[File]) -> None:
    from .models import File

    keys = [f.key for f in files if f.key is not None and f._state.adding]
    if len(set(keys)) < len(keys):
        raise ValueError("Several files of the folder have the same key")
    storage_id = files[0].storage_id
    for start in range(0, len(keys), _BATCH):
        batch = keys[start : start + _BATCH]
        taken = File.objects.filter(storage_id=storage_id, key__in=batch).first()
        if taken is not None:
            raise ValueError(f"Key {taken.key!r} is taken by {taken!r}")


def save(folder: Folder, save_record) -> None:
    """Store the files' pending content, then save all records in one transaction.

    If anything fails, the objects copied by this call are removed again and no
    record is written.
    """
    from django.db import transaction

    from .models import BaseORM

    files = folder._files
    if files is None:
        save_record()
        return
    _check_keys_are_free(files)
    to_save = [f for f in files if f._state.adding or f._source is not None]
    created = []
    try:
        for file in files:
            if file._source is not None:
                destination = _file.store(file)
                if destination is not None:
                    created.append(destination)
        with instance_write(), transaction.atomic():
            for file in to_save:
                BaseORM.save(file)
            save_record()
            folder.files.add(*files)
    except BaseException:
        for destination in created:
            with contextlib.suppress(Exception):
                _paths.remove(destination)
        raise
    for file in files:
        file._source = None
        if file._clear_key is not None:
            old = _paths.storage_path(file.storage.root, file._clear_key)
            file._clear_key = None
            _paths.remove(old)
    folder._files = None


def _relative_keys(folder: Folder) -> list[str]:
    if folder._files is not None:
        rows = [(f.key, f.name, f.id, f.suffix) for f in folder._files]
    elif folder._state.adding:
        rows = []
    else:
        rows = list(folder.files.values_list("key", "name", "id", "suffix"))
    prefix = f"{folder.key}/" if folder.key else ""
    keys = []
    for key, name, file_id, suffix in rows:
        text = key if key is not None else (name or f"{file_id}{suffix or ''}")
        keys.append(text[len(prefix) :] if prefix and text.startswith(prefix) else text)
    return sorted(keys)


def tree_text(folder: Folder, level: int = -1, limit: int = 1000) -> str:
    """The folder's files as a tree, `level` deep (-1: all), at most `limit` entries."""
    root: dict = {}
    n_files = n_folders = 0
    for key in _relative_keys(folder):
        node = root
        *parents, leaf = key.split("/")
        for part in parents:
            if part not in node:
                node[part] = {}
                n_folders += 1
            node = node[part]
        node[leaf] = None
        n_files += 1
    lines = [f"{folder.name}/"]
    truncated = _render(root, "", 1, level, limit, lines)
    if truncated:
        lines.append(f"... only the first {limit} entries are shown")
    lines.append(f"{_count(n_folders, 'sub-folder')}, {_count(n_files, 'file')}")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _render(node: dict, indent: str, depth: int, level: int, limit: int, lines: list) -> bool:
    """Append the entries of `node`; give whether `limit` cut the listing short."""
    entries = sorted(node.items())
    for index, (name, child) in enumerate(entries):
        if len(lines) > limit:  # lines[0] is the folder itself
            return True
        last = index == len(entries) - 1
        branch = "└── " if last else "├── "
        if child is None:
            lines.append(f"{indent}{branch}{name}")
            continue
        lines.append(f"{indent}{branch}{name}/")
        if level < 0 or depth < level:
            deeper = indent + ("    " if last else "│   ")
            if _render(child, deeper, depth + 1, level, limit, lines):
                return True
    return False
