"""Cloud paths: `UPath` plus downloads, uploads and syncing of a local cache copy.

Importing this module attaches `download_to`, `upload_from`, `synchronize` and the
`modified` property to `UPath` (and so to the `S3Path`/`GCSPath` classes
universal-pathlib returns for `s3://` and `gs://`) and to upath's local path classes
(`PosixUPath`/`WindowsUPath`, which derive from `pathlib.Path`, not from `UPath`).

Timestamps: object stores often keep whole seconds while local files have sub-second
mtimes, so "newer" is always decided on whole seconds; a file just downloaded gets the
cloud object's mtime and is therefore never seen as newer or older than its source.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Union

from upath import UPath
from upath.implementations.local import LocalPath

from . import _logger as logger
from ._files import copy_file_atomic, temporary_sibling

__all__ = [
    "UPath",
    "cloud_mtime",
    "create_path",
    "download_to",
    "infer_filesystem",
    "modified",
    "synchronize",
    "upload_from",
]

PathLike = Union[str, os.PathLike, UPath]

# Below this size a transfer is quick enough that a progress bar is only noise.
PROGRESS_MIN_BYTES = 10 * 1024**2

# Keys of fsspec `info()` dicts that carry a modification time, best first:
# s3fs: LastModified; gcsfs: updated (str) and mtime (datetime); local: mtime (float).
_MTIME_KEYS = ("LastModified", "mtime", "updated", "last_modified", "modified")


# --- paths and filesystems ---------------------------------------------------------------


def _strip_trailing_slash(root: str) -> str:
    if "://" in root:
        protocol, rest = root.split("://", 1)
        return f"{protocol}://{rest.rstrip('/')}"
    return str(Path(root)) if root else root


def create_path(root: PathLike, **fs_kwargs: Any) -> UPath:
    """Give a `UPath` for `root` whose `fs` carries `fs_kwargs`; no trailing slash.

    (A bare bucket stays `s3://bucket/`: universal-pathlib always prints its root so.)

    For `s3://` roots `cache_regions=True` is the default, so buckets outside the
    default region work without configuration; pass `cache_regions=False` to turn it
    off. Other keywords (`endpoint_url`, `profile`, ...) go to the fsspec filesystem.
    """
    if isinstance(root, UPath) and not isinstance(root, LocalPath):
        fs_kwargs = {**root.storage_options, **fs_kwargs}
    root_str = _strip_trailing_slash(os.fspath(root) if not isinstance(root, UPath) else str(root))
    if root_str.startswith("s3://"):
        fs_kwargs.setdefault("cache_regions", True)
    return UPath(root_str, **fs_kwargs)


def _is_url(path_str: str) -> bool:
    return "://" in path_str or path_str.startswith(("s3:", "gs:", "gcs:"))


def infer_filesystem(path: PathLike) -> tuple[Any, str]:
    """Give `(fs, path_str)`: the fsspec filesystem for `path` and a string it accepts.

    A `UPath` keeps its own filesystem (with its storage options); a URL string gets
    one from `fsspec.core.url_to_fs` (`cache_regions=True` for `s3://`); anything else
    is a local path on the local filesystem, made absolute.
    """
    import fsspec

    if isinstance(path, UPath):
        return path.fs, str(path)
    path_str = os.fspath(path)
    if _is_url(path_str):
        from fsspec.core import url_to_fs

        kwargs = {"cache_regions": True} if path_str.startswith("s3://") else {}
        fs, _ = url_to_fs(path_str, **kwargs)
        return fs, path_str
    return fsspec.filesystem("file"), str(Path(path_str).expanduser().absolute())


def _fs_and_path(path: PathLike) -> tuple[Any, str]:
    """The filesystem and the path string its methods want (protocol stripped)."""
    if not isinstance(path, UPath):
        path = create_path(path)
    return path.fs, path.path


def _is_local_fs(fs: Any) -> bool:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return "file" in protocols or "local" in protocols


def _fresh_info(fs: Any, rpath: str) -> dict:
    """`fs.info(rpath)` bypassing listings cached by the filesystem instance.

    fsspec reuses filesystem instances within a process, so a listing cached before
    another client wrote the object would otherwise hide the new version.
    """
    fs.invalidate_cache(rpath)
    return fs.info(rpath)


# --- modification times ------------------------------------------------------------------


def _to_epoch(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:  # stores report UTC
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return float(value)
        with contextlib.suppress(ValueError):
            return _to_epoch(datetime.fromisoformat(value.replace("Z", "+00:00")))
        with contextlib.suppress(TypeError, ValueError):
            return _to_epoch(parsedate_to_datetime(value))
    raise ValueError(f"cannot read a modification time from {value!r}")


def _mtime_from_info(info: dict) -> float:
    for key in _MTIME_KEYS:
        value = info.get(key)
        if value is not None:
            return _to_epoch(value)
    raise ValueError(f"no modification time in {info!r}")


def cloud_mtime(path: PathLike) -> float:
    """Give the modification time of the object at `path` in epoch seconds.

    Reads s3fs's `LastModified`, gcsfs's `updated`/`mtime` and the local `mtime`.
    Raises `FileNotFoundError` when there is no object.
    """
    fs, rpath = _fs_and_path(path)
    return _mtime_from_info(_fresh_info(fs, rpath))


def modified(path: PathLike) -> datetime:
    """Give the modification time of the object as a naive datetime in local time."""
    return datetime.fromtimestamp(cloud_mtime(path))


def _whole_seconds(timestamp: float) -> int:
    return math.floor(timestamp)


# --- progress ------------------------------------------------------------------------------


def _stderr_progress_class():
    from fsspec.callbacks import Callback

    class _StderrProgress(Callback):
        """A one-line percentage on stderr, for when tqdm is not installed."""

        def __init__(self, description: str):
            super().__init__()
            self._description = description
            self._shown = -1

        def call(self, *args, **kwargs):
            if not self.size:
                return
            percent = min(100, int(100 * self.value / self.size))
            if percent != self._shown:
                self._shown = percent
                megabytes = self.size / 1024**2
                print(
                    f"\r{self._description}: {percent:3d}% of {megabytes:.1f} MB",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )

        def close(self):
            if self._shown >= 0:
                print(file=sys.stderr, flush=True)
                self._shown = -1

    return _StderrProgress


def _progress_callback(print_progress: bool, size: int | None, description: str):
    """A callback showing progress for big transfers on a terminal, else a no-op."""
    from fsspec.callbacks import NoOpCallback

    show = (
        print_progress and size is not None and size >= PROGRESS_MIN_BYTES and sys.stderr.isatty()
    )
    if not show:
        return NoOpCallback()
    try:
        import tqdm  # noqa: F401
        from fsspec.callbacks import TqdmCallback

        return TqdmCallback(tqdm_kwargs={"desc": description, "unit": "B", "unit_scale": True})
    except ImportError:
        return _stderr_progress_class()(description)


_temporary_sibling = temporary_sibling  # same device as the target: `os.replace` is atomic


# --- transfers -----------------------------------------------------------------------------


def _download(
    fs: Any, rpath: str, info: dict, local_path: Path, print_progress: bool, callback: Any
) -> None:
    local_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_sibling(local_path)
    owned = callback is None
    if owned:
        callback = _progress_callback(print_progress, info.get("size"), local_path.name)
    try:
        fs.get_file(rpath, str(temporary), callback=callback)
        # info was taken before the transfer: if the object changed meanwhile, the
        # older mtime makes the next synchronize download again rather than miss it
        mtime = _mtime_from_info(info)
        os.utime(temporary, (mtime, mtime))
        os.replace(temporary, local_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    finally:
        if owned:
            callback.close()


def download_to(
    path: PathLike,
    local_path: Union[str, os.PathLike],
    print_progress: bool = False,
    *,
    callback: Any = None,
) -> None:
    """Download the object at `path` to `local_path`, which then has the object's mtime.

    The data goes to a temporary file next to `local_path` that replaces it only when
    complete, so an interrupted download never leaves a partial file behind.
    `print_progress` shows a progress bar for objects of 10 MB or more when stderr is
    a terminal; `callback` (an fsspec callback) replaces it.
    """
    fs, rpath = _fs_and_path(path)
    info = _fresh_info(fs, rpath)
    _download(fs, rpath, info, Path(local_path), print_progress, callback)


def upload_from(
    path: PathLike,
    local_path: Union[str, os.PathLike],
    print_progress: bool = False,
    *,
    callback: Any = None,
) -> None:
    """Upload the file `local_path` to `path`.

    Object stores publish an object only once it is complete; a local destination is
    written to a temporary sibling and renamed, so readers never see half a file.
    """
    fs, rpath = _fs_and_path(path)
    local_path = Path(local_path)
    if _is_local_fs(fs):
        copy_file_atomic(local_path, Path(rpath))
        return
    owned = callback is None
    if owned:
        description = f"uploading {local_path.name}"
        callback = _progress_callback(print_progress, local_path.stat().st_size, description)
    try:
        fs.put_file(str(local_path), rpath, callback=callback)
    finally:
        if owned:
            callback.close()
        fs.invalidate_cache(rpath)


_VERSION_KEYS = ("ETag", "etag", "generation", "md5Hash", "VersionId")


def _version_from_info(info: dict) -> str | None:
    """The store's version tag of an object (its ETag on S3), if it reports one."""
    for key in _VERSION_KEYS:
        value = info.get(key)
        if value:
            return str(value).strip('"')
    return None


def cloud_version(path: PathLike) -> tuple[str | None, float]:
    """`(version tag, mtime)` of the object at `path` from one metadata request."""
    fs, rpath = _fs_and_path(path)
    info = _fresh_info(fs, rpath)
    return _version_from_info(info), _mtime_from_info(info)


def synchronize(
    path: PathLike,
    local_path: Union[str, os.PathLike],
    print_progress: bool = False,
    *,
    version_file: Union[str, os.PathLike, None] = None,
) -> bool:
    """Bring `local_path` up to date with the object at `path`; False if there is no object.

    No object: nothing happens. No local file, or the object is newer: download (the
    local file gets the object's mtime). Local file newer: a warning that its changes
    were not pushed and may be lost. Times are compared in whole seconds.

    With `version_file`, which records the version tag (ETag) of the object the local
    file was last synchronized with, "newer" means "another version": two uploads
    within one second, which whole-second timestamps cannot tell apart, are not missed.
    """
    fs, rpath = _fs_and_path(path)
    try:
        info = _fresh_info(fs, rpath)
    except FileNotFoundError:
        return False
    local_path = Path(local_path)
    version = _version_from_info(info)
    recorded = _read_version(version_file)
    try:
        local_seconds = _whole_seconds(local_path.stat().st_mtime)
    except FileNotFoundError:
        _download(fs, rpath, info, local_path, print_progress, None)
        _write_version(version_file, version)
        return True
    cloud_seconds = _whole_seconds(_mtime_from_info(info))
    if version is not None and recorded is not None:
        cloud_is_other = version != recorded
    else:
        cloud_is_other = cloud_seconds > local_seconds
    if cloud_is_other:
        _download(fs, rpath, info, local_path, print_progress, None)
        _write_version(version_file, version)
    elif local_seconds > cloud_seconds:
        logger.warning(
            f"The local file {local_path} is newer than {path}: its changes were not "
            "pushed to the cloud and may be lost when the cloud copy is downloaded."
        )
    return True


def _read_version(version_file: Union[str, os.PathLike, None]) -> str | None:
    if version_file is None:
        return None
    try:
        return Path(version_file).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _write_version(version_file: Union[str, os.PathLike, None], version: str | None) -> None:
    """Record the version tag atomically; forget it when the store reports none."""
    if version_file is None:
        return
    path = Path(version_file)
    if version is None:
        path.unlink(missing_ok=True)
        return
    temporary = _temporary_sibling(path)
    temporary.write_text(version, encoding="utf-8")
    os.replace(temporary, path)


def record_version(path: PathLike, version_file: Union[str, os.PathLike]) -> float:
    """Record the current version tag of the object at `path`; returns its mtime."""
    version, mtime = cloud_version(path)
    _write_version(version_file, version)
    return mtime


def _attach(cls: type) -> None:
    cls.download_to = download_to
    cls.upload_from = upload_from
    cls.synchronize = synchronize
    cls.modified = property(modified, doc=modified.__doc__)


# LocalPath is only a virtual subclass of UPath: attribute lookup needs it done twice.
_attach(UPath)
_attach(LocalPath)
