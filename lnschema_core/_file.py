"""`File` from a path: its fields, and storing, replacing and deleting its object."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from lamindb_setup.dev import _logger as logger

from . import _paths

if TYPE_CHECKING:
    from .models import File, Run, Storage

MAX_NAME = 255


def fields_from_path(
    path: Any,
    *,
    key: str | None = None,
    name: str | None = None,
    run: Run | None = None,
    storage: Storage | None = None,
) -> tuple[dict, Any]:
    """The field values of a `File` made from `path`, and the path to copy (or `None`).

    A path in the storage root is registered where it is: its key is the relative
    path. Any other path is copied into the storage on `save()`.
    """
    filepath = _paths.as_path(path)
    _paths.check_is_file(filepath)
    if key is not None:
        key = _paths.check_key(key)
    if name is None:
        name = filepath.name
    elif not isinstance(name, str) or not name:
        raise ValueError(f"A name is a non-empty str, got {name!r}")
    if len(name) > MAX_NAME:
        raise ValueError(f"Name too long ({len(name)} > {MAX_NAME} characters): {name!r}")
    if storage is None:
        storage = _paths.default_storage()
    size, md5 = _paths.size_and_hash(filepath)
    fields = {
        "name": name,
        "suffix": _paths.suffix_of(filepath.name),
        "size": size,
        "hash": md5,
        "key": key,
        "storage": storage,
        "run": run,
        "transform": run.transform if run is not None else None,
    }
    key_in_storage = _paths.key_in_root(filepath, storage.root)
    if key_in_storage is None:
        return fields, filepath
    if key is not None and key != key_in_storage:
        raise ValueError(
            f"{filepath} is in the storage already, at key {key_in_storage!r}: it is "
            f"registered where it is, so drop key={key!r} (or pass a copy from elsewhere)"
        )
    fields["key"] = _paths.check_key(key_in_storage)
    return fields, None


def storage_key(file: File, suffix: str | None = None) -> str:
    """Where the file's object lives in its storage: its key, or id + suffix."""
    if file.key is not None:
        return file.key
    return f"{file.id}{file.suffix if suffix is None else suffix or ''}"


def hint_new(file: File) -> None:
    """Say whether `save()` will copy the file into the storage or leave it where it is."""
    if file._source is None:
        logger.hint(f"file is in the storage: registering it at key '{file.key}', no copy")
        return
    verb = "upload" if _paths.is_cloud(file.storage.root) else "copy"
    logger.hint(f"file is outside the storage: file.save() will {verb} it to {file.path()}")
    same = type(file).objects.filter(hash=file.hash, size=file.size).first()
    if same is not None:
        logger.hint(f"a file with the same content is registered already: {same!r}")


def check_key_is_free(file: File) -> None:
    """Raise `ValueError` if another file of the same storage has this key."""
    if file.key is None:
        return
    taken = (
        type(file)
        .objects.filter(storage_id=file.storage_id, key=file.key)
        .exclude(id=file.id)
        .first()
    )
    if taken is not None:
        raise ValueError(
            f"Key {file.key!r} is taken by {taken!r}: pass another key, or update that "
            "file with file.replace(path)"
        )


def store(file: File) -> Any:
    """Copy the pending content into the storage; give the destination if it is new.

    Refuses to overwrite an object that another record (or nobody) points to: only
    `replace()` at an unchanged key writes over the file's own object.
    """
    destination = file.path()
    overwrites_own = getattr(file, "_clear_key", None) is None and not file._state.adding
    existed = _paths.exists(destination)
    if existed and not overwrites_own:
        raise FileExistsError(
            f"{destination} exists already: register it with File({str(destination)!r}), "
            "or pass another key"
        )
    _paths.copy(file._source, destination)
    return None if existed else destination


def save(file: File, save_record) -> None:
    """Store the content (if pending), then save the record; undo the copy on failure."""
    check_key_is_free(file)
    if file._source is None:
        save_record()
        return
    created = store(file)
    try:
        save_record()
    except BaseException:
        if created is not None:
            _paths.remove(created)
        raise
    file._source = None
    if file._clear_key is not None:
        old = _paths.storage_path(file.storage.root, file._clear_key)
        file._clear_key = None
        _paths.remove(old)


def replace(file: File, path: Any, run: Run | None = None) -> None:
    """Point the record at new content; `save()` stores it and removes the old object.

    The key keeps its stem and takes the new suffix (`raw/a.csv` → `raw/a.parquet`),
    and so does a name that ends with the old suffix; without a key the object is
    stored at id + new suffix.
    """
    filepath = _paths.as_path(path)
    _paths.check_is_file(filepath)
    suffix = _paths.suffix_of(filepath.name)
    old_key = storage_key(file)
    if file.key is not None:
        key_path = PurePosixPath(file.key)
        stem = _paths.stem_of(key_path.name, file.suffix or "")
        file.key = str(key_path.with_name(f"{stem}{suffix}"))
    new_key = storage_key(file, suffix)
    old_suffix = file.suffix or ""
    if file.name and old_suffix and file.name.endswith(old_suffix):
        file.name = f"{_paths.stem_of(file.name, old_suffix)}{suffix}"
    size, md5 = _paths.size_and_hash(filepath)
    file.suffix, file.size, file.hash = suffix, size, md5
    if run is not None:
        file.run, file.transform = run, run.transform
    file._source = filepath
    if not file._state.adding:
        # the object the saved record points to: from before any unsaved replace()
        stored = file._clear_key or old_key
        file._clear_key = stored if stored != new_key else None
    message = f"file.save() will store the new content at {file.path()}"
    if file._clear_key is not None:
        message += f" and then remove {_paths.storage_path(file.storage.root, file._clear_key)}"
    logger.hint(message)


def delete(file: File, delete_record, storage: bool) -> Any:
    """Delete the record and, if `storage`, then its stored object."""
    if file._state.adding:
        raise ValueError(f"{file!r} is not saved: there is nothing to delete")
    path = file.path()
    result = delete_record()
    if storage:
        _paths.remove(path)
    else:
        logger.hint(f"kept {path}: file.delete(storage=True) also deletes the stored object")
    return result
