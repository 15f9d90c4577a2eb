"""Checks of `init`'s arguments, and the region of a storage bucket."""

from __future__ import annotations

import importlib.util
import sys
import uuid

import boto3
import pytest

from lamindb_setup._hub import (
    get_schema_module_name,
    get_storage_region,
    validate_db_arg,
    validate_schema_arg,
    validate_storage_root_arg,
)
from lamindb_setup.dev._errors import SetupRuntimeError, SetupValueError

# --- schema modules -------------------------------------------------------------------


def test_schema_module_name():
    assert get_schema_module_name("bionty") == "lnschema_bionty"


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (None, ""),
        ("", ""),
        ("bionty", "bionty"),
        ("bionty, lamin1", "bionty,lamin1"),
        (" lamin1 ,bionty ", "lamin1,bionty"),
        ("core", ""),
        ("core,bionty", "bionty"),
        ("bionty,,bionty, ", "bionty"),
    ],
)
def test_schema_arg_is_normalised(schema, expected):
    assert validate_schema_arg(schema) == expected


@pytest.mark.parametrize("schema", ["xyz1", "bionty, xyz1", "../evil", "a.b"])
def test_unknown_schema_module_raises(schema):
    with pytest.raises(ValueError) as info:
        validate_schema_arg(schema)
    assert isinstance(info.value, SetupValueError)
    message = str(info.value)
    assert "\n" not in message
    assert "Unknown schema module" in message
    assert "pip install" in message
    if "xyz1" in schema:
        assert "pip install lnschema_xyz1" in message
        assert "bionty" not in message


def test_installed_schema_module_is_accepted_without_importing_it(tmp_path, monkeypatch):
    package = tmp_path / "lnschema_mytest42"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert validate_schema_arg("mytest42, bionty") == "mytest42,bionty"
    assert "lnschema_mytest42" not in sys.modules


# --- storage roots --------------------------------------------------------------------


@pytest.mark.parametrize(
    "root",
    [
        "./mydata",
        "/tmp/data/",
        "mydata",
        "s3://bucket",
        "s3://bucket/",
        "s3://b/sub/dir/",
        "gs://b",
    ],
)
def test_valid_storage_roots(root):
    validate_storage_root_arg(root)


@pytest.mark.parametrize(
    ("root", "match"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("s3://", "names no bucket"),
        ("s3:///key", "names no bucket"),
        ("gs://", "names no bucket"),
        ("http://example.org/data", "Unsupported storage root"),
        ("ftp://example.org/data", "Unsupported storage root"),
    ],
)
def test_invalid_storage_roots(root, match):
    with pytest.raises(SetupValueError, match=match):
        validate_storage_root_arg(root)


def test_storage_root_error_hides_a_password():
    with pytest.raises(SetupValueError) as info:
        validate_storage_root_arg("https://user:s3cret@example.org/data")
    assert "s3cret" not in str(info.value)
    assert "user:***@example.org" in str(info.value)


# --- database URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "db",
    [
        None,
        "postgresql://user:pw@localhost:5432/mydb",
        "postgresql://localhost/mydb",
        "postgres://user:pw@db.example.org/mydb",
        "sqlite:///tmp/mydata.lndb",
        "sqlite:////abs/path/mydata.lndb",
    ],
)
def test_valid_db_urls(db):
    validate_db_arg(db)


@pytest.mark.parametrize(
    "db",
    [
        "",
        "mysql://user:pw@localhost:3306/mydb",
        "postgresql://user:pw@localhost:5432",
        "postgresql://user:pw@localhost:5432/",
        "postgresql://user:pw@:5432/mydb",
        "postgresql://user:pw@localhost:notaport/mydb",
        "postgresql://user:pw@localhost/a/b",
        "sqlite://",
        "sqlite://relative.db",
        "localhost:5432/mydb",
    ],
)
def test_invalid_db_urls(db):
    with pytest.raises(SetupValueError) as info:
        validate_db_arg(db)
    message = str(info.value)
    assert message.startswith("Invalid db URL")
    assert "postgresql://USER@HOST:PORT/DBNAME" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "db",
    [
        "mysql://admin:Sup3rSecret@localhost:3306/mydb",
        "postgresql://admin:Sup3rSecret@localhost:5432",
        "postgresql://admin:p@Sup3rSecret@localhost/",
        "postgresql://admin:Sup3rSecret@localhost:bad/mydb",
    ],
)
def test_db_error_never_shows_the_password(db):
    with pytest.raises(SetupValueError) as info:
        validate_db_arg(db)
    assert "Sup3rSecret" not in str(info.value)
    assert "admin:***@" in str(info.value)


# --- storage region -------------------------------------------------------------------


def test_local_root_has_no_region(tmp_path):
    assert get_storage_region(str(tmp_path)) is None
    assert get_storage_region("./mydata") is None


def test_s3_bucket_in_us_east_1(bucket):
    # no endpoint passed: boto3 must pick up AWS_ENDPOINT_URL of the moto server itself
    assert get_storage_region(f"s3://{bucket}") == "us-east-1"
    assert get_storage_region(f"s3://{bucket}/sub/folder/") == "us-east-1"


def test_s3_bucket_in_another_region(s3):
    name = f"lamin-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3, region_name="eu-central-1")
    client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    assert get_storage_region(f"s3://{name}") == "eu-central-1"


def test_missing_s3_bucket(s3):
    with pytest.raises(SetupValueError, match="does not exist"):
        get_storage_region(f"s3://lamin-missing-{uuid.uuid4().hex[:12]}")


def test_unreachable_s3_endpoint(s3, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(SetupRuntimeError, match="Cannot get the region"):
        get_storage_region("s3://some-bucket")


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


@pytest.mark.skipif(
    _installed("gcsfs") or _installed("google.cloud.storage"),
    reason="a Google Cloud client is installed",
)
def test_gs_region_without_google_clients_is_unknown():
    assert get_storage_region("gs://some-bucket") is None
