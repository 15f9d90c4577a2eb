"""Cloud paths against a moto S3 server: create, transfer, synchronize, timestamps."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from lamindb_setup.dev.upath import (
    UPath,
    cloud_mtime,
    create_path,
    download_to,
    infer_filesystem,
    modified,
    synchronize,
    upload_from,
)


@pytest.fixture
def cloud_file(bucket, tmp_path):
    """An object `s3://{bucket}/folder/data.txt` uploaded from a local file."""
    source = tmp_path / "source.txt"
    source.write_text("version 1")
    path = create_path(f"s3://{bucket}/folder/data.txt")
    path.upload_from(source)
    return path


def _spy_on_get_file(monkeypatch, fs) -> list:
    calls: list = []
    original = fs.get_file

    def get_file(rpath, lpath, *args, **kwargs):
        calls.append(rpath)
        return original(rpath, lpath, *args, **kwargs)

    monkeypatch.setattr(fs, "get_file", get_file)
    return calls


# --- create_path --------------------------------------------------------------------------


def test_create_path_s3_defaults_to_cache_regions(s3, bucket):
    path = create_path(f"s3://{bucket}/folder/")
    assert str(path) == f"s3://{bucket}/folder"
    assert type(path).__name__ == "S3Path"
    assert path.storage_options["cache_regions"] is True
    assert path.fs.storage_options["cache_regions"] is True
    # the storage options travel to children
    assert (path / "file.txt").storage_options["cache_regions"] is True


def test_create_path_s3_keeps_explicit_kwargs(s3, bucket):
    path = create_path(f"s3://{bucket}", cache_regions=False, endpoint_url=s3)
    assert path.fs.storage_options["cache_regions"] is False
    assert path.fs.storage_options["endpoint_url"] == s3
    (path / "hello.txt").write_text("hi")
    assert (path / "hello.txt").read_text() == "hi"


def test_create_path_gs_without_network():
    path = create_path("gs://my-bucket/some/folder/")
    assert str(path) == "gs://my-bucket/some/folder"
    assert path.protocol == "gs"
    assert path.path == "my-bucket/some/folder"
    assert path.parts[0].rstrip("/") == "my-bucket"
    assert list(path.parts[1:]) == ["some", "folder"]
    assert (path / "inst.lndb").name == "inst.lndb"
    assert str(path / "inst.lndb") == "gs://my-bucket/some/folder/inst.lndb"
    assert "cache_regions" not in path.storage_options
    # the methods are there without touching the network
    assert type(path).download_to is download_to
    assert type(path).synchronize is synchronize


def test_create_path_local(tmp_path):
    path = create_path(f"{tmp_path}/folder/")
    assert str(path) == f"{tmp_path}/folder"
    assert type(path).upload_from is upload_from
    assert isinstance(type(path).modified, property)


# --- transfers ------------------------------------------------------------------------------


def test_upload_and_download_roundtrip(cloud_file, tmp_path):
    target = tmp_path / "cache" / "deep" / "data.txt"
    cloud_file.download_to(target)
    assert target.read_text() == "version 1"
    assert os.stat(target).st_mtime == cloud_mtime(cloud_file)
    assert list(target.parent.iterdir()) == [target]  # no temporary left

    # the module functions are the same as the methods
    second = tmp_path / "second.txt"
    download_to(cloud_file, second)
    assert second.read_text() == "version 1"


def test_upload_from_replaces_the_object(cloud_file, tmp_path):
    newer = tmp_path / "newer.txt"
    newer.write_text("version 2")
    upload_from(cloud_file, newer)
    assert cloud_file.read_text() == "version 2"


def test_interrupted_download_leaves_nothing_behind(bucket, tmp_path):
    from fsspec.callbacks import Callback

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024**2))
    path = create_path(f"s3://{bucket}/big.bin")
    path.upload_from(big)

    class ConnectionLost(Exception):
        pass

    class Interrupt(Callback):
        def relative_update(self, inc=1):
            super().relative_update(inc)
            if self.value > 1024**2:
                raise ConnectionLost

    cache = tmp_path / "cache"
    cache.mkdir()
    target = cache / "big.bin"
    with pytest.raises(ConnectionLost):
        path.download_to(target, callback=Interrupt())
    assert list(cache.iterdir()) == []

    # an existing copy stays whole too
    target.write_bytes(b"previous copy")
    with pytest.raises(ConnectionLost):
        path.download_to(target, callback=Interrupt())
    assert target.read_bytes() == b"previous copy"
    assert list(cache.iterdir()) == [target]

    path.download_to(target)
    assert target.read_bytes() == big.read_bytes()


def test_small_downloads_are_quiet(cloud_file, tmp_path, capsys):
    cloud_file.download_to(tmp_path / "quiet.txt", print_progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_upload_to_local_upath(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("local")
    destination = create_path(str(tmp_path / "store" / "a.txt"))
    destination.upload_from(source)
    assert (tmp_path / "store" / "a.txt").read_text() == "local"
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["a.txt"]


# --- timestamps -----------------------------------------------------------------------------


def test_modified_is_naive_local_time(cloud_file):
    stamp = cloud_file.modified
    assert isinstance(stamp, datetime)
    assert stamp.tzinfo is None
    assert abs((datetime.now() - stamp).total_seconds()) < 60
    assert modified(cloud_file) == stamp
    assert stamp == datetime.fromtimestamp(cloud_mtime(cloud_file))


def test_cloud_mtime_of_missing_object_raises(bucket):
    with pytest.raises(FileNotFoundError):
        cloud_mtime(create_path(f"s3://{bucket}/nothing-here"))


# --- synchronize ----------------------------------------------------------------------------


def test_synchronize_without_cloud_object_does_nothing(bucket, tmp_path, capsys):
    local = tmp_path / "cache" / "missing.txt"
    synchronize(create_path(f"s3://{bucket}/missing.txt"), local)
    assert not local.exists()
    assert capsys.readouterr().err == ""


def test_synchronize_without_local_file_downloads(cloud_file, tmp_path):
    local = tmp_path / "cache" / "data.txt"
    cloud_file.synchronize(local)
    assert local.read_text() == "version 1"
    assert local.stat().st_mtime == cloud_mtime(cloud_file)


def test_synchronize_downloads_newer_cloud_object(cloud_file, tmp_path, capsys):
    local = tmp_path / "data.txt"
    local.write_text("stale copy")
    old = cloud_mtime(cloud_file) - 3600
    os.utime(local, (old, old))
    synchronize(cloud_file, local)
    assert local.read_text() == "version 1"
    assert local.stat().st_mtime == cloud_mtime(cloud_file)
    assert capsys.readouterr().err == ""


def test_synchronize_warns_about_newer_local_file(cloud_file, tmp_path, capsys):
    local = tmp_path / "data.txt"
    local.write_text("my unpushed change")
    newer = cloud_mtime(cloud_file) + 3600
    os.utime(local, (newer, newer))
    synchronize(cloud_file, local)
    assert local.read_text() == "my unpushed change"
    err = capsys.readouterr().err
    assert "not pushed" in err and "may be lost" in err
    assert str(local) in err


def test_synchronize_downloads_once(cloud_file, tmp_path, monkeypatch, capsys):
    calls = _spy_on_get_file(monkeypatch, cloud_file.fs)
    local = tmp_path / "data.txt"
    synchronize(cloud_file, local)
    synchronize(cloud_file, local)
    assert len(calls) == 1
    # a sub-second local mtime against whole-second cloud time is still "in sync"
    whole = cloud_mtime(cloud_file)
    os.utime(local, (whole + 0.7, whole + 0.7))
    synchronize(cloud_file, local)
    assert len(calls) == 1
    assert capsys.readouterr().err == ""


def test_synchronize_picks_up_another_clients_upload(cloud_file, tmp_path, s3):
    import boto3

    local = tmp_path / "data.txt"
    synchronize(cloud_file, local)
    bucket, key = cloud_file.path.split("/", 1)
    # back-date our copy so the other client's write is newer at whole-second resolution
    old = cloud_mtime(cloud_file) - 10
    os.utime(local, (old, old))
    boto3.client("s3", endpoint_url=s3).put_object(Bucket=bucket, Key=key, Body=b"version 2")
    synchronize(cloud_file, local)
    assert local.read_text() == "version 2"


# --- infer_filesystem -----------------------------------------------------------------------


def test_infer_filesystem_url(s3, bucket):
    fs, path_str = infer_filesystem(f"s3://{bucket}/a/b.txt")
    assert "s3" in fs.protocol
    assert path_str == f"s3://{bucket}/a/b.txt"
    fs.pipe(path_str, b"content")
    assert fs.cat(path_str) == b"content"


def test_infer_filesystem_upath_keeps_its_fs(cloud_file):
    fs, path_str = infer_filesystem(cloud_file)
    assert fs is cloud_file.fs
    assert path_str == str(cloud_file)
    assert fs.exists(path_str)


def test_infer_filesystem_local(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.txt").write_text("x")
    for given in ("x.txt", Path("x.txt"), UPath(tmp_path / "x.txt")):
        fs, path_str = infer_filesystem(given)
        assert "file" in fs.protocol
        assert path_str == str(tmp_path / "x.txt")
        assert fs.cat(path_str) == b"x"


def test_progress_only_on_a_terminal(monkeypatch):
    import io

    from fsspec.callbacks import NoOpCallback

    from lamindb_setup.dev import upath

    monkeypatch.setattr("sys.stderr", io.StringIO())
    big = 20 * 1024**2
    assert isinstance(upath._progress_callback(True, big, "x"), NoOpCallback)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert isinstance(upath._progress_callback(False, big, "x"), NoOpCallback)
    assert isinstance(upath._progress_callback(True, 1024, "x"), NoOpCallback)
    callback = upath._progress_callback(True, big, "x")
    assert not isinstance(callback, NoOpCallback)
    callback.set_size(big)
    callback.relative_update(big // 2)
    callback.close()
    assert "50%" in terminal.getvalue()
