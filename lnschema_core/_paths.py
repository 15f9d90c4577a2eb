"""Paths of data objects: local or cloud, their stats, and copies into the storage."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from lamindb_setup.dev._files import copy_file_atomic

CLOUD_PREFIXES = ("s3://", "gs://")

# Suffixes of compressed files: `reads.fastq.gz` keeps `.fastq.gz` as its suffix.
_COMPRESSION_SUFFIXES = {".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4", ".br", ".z"}
# A suffix in front of a compression suffix counts only when it looks like a format.
_INNER_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}")
MAX_SUFFIX = 30
MAX_KEY = 255

_CHUNK = 8 * 1024 * 1024


def is_cloud(path: Any) -> bool:
    """Whether `path` (a str, `Path` or `UPath`) is an `s3://` or `gs://` location."""
    return str(path).startswith(CLOUD_PREFIXES)


def as_path(path: Any) -> Any:
    """A resolved local `Path`, or a `UPath` for an `s3://`/`gs://` location.

    Raises `TypeError` for anything that is not a str, `os.PathLike` or `UPath` and
    `ValueError` for URLs of other protocols.
    """
    upath = sys.modules.get("upath")  # a UPath argument means upath is imported already
    if upath is not None and isinstance(path, upath.UPath) and is_cloud(path):
        from lamindb_setup.dev.upath import create_path

        return create_path(path)
    if isinstance(path, (str, os.PathLike)):
        text = os.fspath(path)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        if is_cloud(text):
            from lamindb_setup.dev.upath import create_path

            return create_path(text)
        if "://" in text:
            raise ValueError(f"Unsupported location {text!r}: use a local path, s3:// or gs://")
        return Path(text).expanduser().resolve()
    raise TypeError(f"Expected a path (str, pathlib.Path or UPath), got {type(path).__name__}")


def _fs_path(path: Any) -> tuple[Any, str]:
    """The fsspec filesystem of a cloud `UPath` and its path there, with a fresh cache."""
    fs, rpath = path.fs, path.path
    fs.invalidate_cache(rpath)
    return fs, rpath


def exists(path: Any) -> bool:
    if is_cloud(path):
        fs, rpath = _fs_path(path)
        return fs.exists(rpath)
    return Path(path).exists()


def is_file(path: Any) -> bool:
    if is_cloud(path):
        fs, rpath = _fs_path(path)
        return fs.isfile(rpath)
    return Path(path).is_file()


def is_dir(path: Any) -> bool:
    if is_cloud(path):
        fs, rpath = _fs_path(path)
        return fs.isdir(rpath)
    return Path(path).is_dir()


def check_is_file(path: Any) -> None:
    """Raise `FileNotFoundError`, or `IsADirectoryError` pointing to `Folder`."""
    if is_file(path):
        return
    if is_dir(path):
        raise IsADirectoryError(f"{path} is a folder: register it with Folder({str(path)!r})")
    raise FileNotFoundError(f"No such file: {path}")


def suffix_of(name: str) -> str:
    """The file's suffix: `.csv`, `.tar.gz`, `.fastq.gz`, or `""` when it has none."""
    suffixes = PurePosixPath(name).suffixes
    if not suffixes:
        return ""
    suffix = suffixes[-1]
    if len(suffixes) > 1 and suffix.lower() in _COMPRESSION_SUFFIXES:
        inner = suffixes[-2]
        if _INNER_SUFFIX.fullmatch(inner):
            suffix = inner + suffix
    return suffix if len(suffix) <= MAX_SUFFIX else ""


def stem_of(name: str, suffix: str) -> str:
    """`name` without `suffix` (which may have several dots, like `.tar.gz`)."""
    if suffix and name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return PurePosixPath(name).stem


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _md5_of_stream(stream) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    while chunk := stream.read(_CHUNK):
        md5.update(chunk)
    return _b64(md5.digest())


_PLAIN_ETAG = re.compile(r"[0-9a-f]{32}")


def size_and_hash(path: Any) -> tuple[int, str]:
    """Size in bytes and md5 of the content (url-safe base64, 22 characters).

    For an S3 object uploaded in one part, its ETag is the md5 and nothing is read;
    other cloud objects are streamed.
    """
    if not is_cloud(path):
        with open(path, "rb") as stream:
            return os.fstat(stream.fileno()).st_size, _md5_of_stream(stream)
    fs, rpath = _fs_path(path)
    info = fs.info(rpath)
    size = int(info.get("size") or 0)
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"').lower()
    if _PLAIN_ETAG.fullmatch(etag):
        return size, _b64(bytes.fromhex(etag))
    with fs.open(rpath, "rb") as stream:
        return size, _md5_of_stream(stream)


def list_files(folder: Any) -> list[tuple[Any, str]]:
    """`(path, relative posix path)` of every file under `folder`, sorted."""
    if is_cloud(folder):
        fs, rpath = _fs_path(folder)
        base = rpath.rstrip("/")
        found = []
        for item in sorted(fs.find(base)):
            relative = item[len(base) :].lstrip("/")
            if relative:
                found.append((folder / relative, relative))
        return found
    folder = Path(folder)
    return [
        (path, path.relative_to(folder).as_posix())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def check_key(key: Any) -> str:
    """A valid storage key: a relative posix path without `..`, `.` or empty parts."""
    if not isinstance(key, str):
        raise TypeError(f"A key is a str like 'raw/data.csv', got {type(key).__name__}")
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "://" in key
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ValueError(
            f"Invalid key {key!r}: use a relative path like 'raw/data.csv' "
            "(no leading '/', no '.' or '..' parts)"
        )
    if len(key) > MAX_KEY:
        raise ValueError(f"Key too long ({len(key)} > {MAX_KEY} characters): {key!r}")
    return key


def key_in_root(path: Any, root: str) -> str | None:
    """The key of `path` relative to the storage `root`, or `None` when it is outside."""
    if is_cloud(path) != is_cloud(root):
        return None
    if is_cloud(path):
        text, root = str(path).rstrip("/"), root.rstrip("/")
        if text == root:
            return "."
        return text[len(root) + 1 :] if text.startswith(f"{root}/") else None
    try:
        return Path(path).relative_to(Path(root)).as_posix()
    except ValueError:
        return None


def root_path(root: str) -> Any:
    """The path of a storage root; the instance's own root keeps its fsspec options."""
    from lamindb_setup import settings

    if settings._instance_exists and settings.storage.root_as_str == root:
        return settings.storage.root
    if is_cloud(root):
        from lamindb_setup.dev.upath import create_path

        return create_path(root)
    return Path(root)


def storage_path(root: str, key: str) -> Any:
    """`root / key` as a local `Path` or a cloud `UPath`."""
    return root_path(root) / key


def default_storage():
    """The Storage row of the loaded instance's storage root."""
    from lamindb_setup import settings

    from .models import Storage

    root = settings.storage.root_as_str
    try:
        return Storage.objects.get(root=root)
    except Storage.DoesNotExist:
        raise RuntimeError(
            f"The storage {root} has no row in the Storage table of "
            f"{settings.instance.identifier}: load the instance again (`lamin load`)"
        ) from None


def copy(source: Any, destination: Any) -> None:
    """Copy a file between any two of local disk, S3 and GCS."""
    from_cloud, to_cloud = is_cloud(source), is_cloud(destination)
    if not from_cloud and not to_cloud:
        copy_file_atomic(Path(source), Path(destination))
        return
    from lamindb_setup.dev.upath import download_to, upload_from

    if not to_cloud:
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        download_to(source, destination)
    elif not from_cloud:
        upload_from(destination, source)
    else:
        with tempfile.TemporaryDirectory() as directory:
            local = Path(directory) / "object"
            download_to(source, local)
            upload_from(destination, local)


def remove(path: Any) -> None:
    """Remove the file at `path`; a missing file is no error."""
    if is_cloud(path):
        fs, rpath = _fs_path(path)
        with contextlib.suppress(FileNotFoundError):
            fs.rm_file(rpath)
        fs.invalidate_cache(rpath)
        return
    Path(path).unlink(missing_ok=True)
