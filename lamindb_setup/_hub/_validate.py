"""Check the arguments of `init` before anything is created; find a bucket's region."""

from __future__ import annotations

import importlib.util
from urllib.parse import urlsplit

from ..dev._errors import SetupRuntimeError, SetupValueError

# schema modules the original knew about even when they are not installed yet
KNOWN_SCHEMA_MODULES = ("bionty", "lamin1")
CLOUD_SCHEMES = ("s3", "gs")


def get_schema_module_name(name: str) -> str:
    """The Python package of schema module `name`, e.g. `lnschema_bionty`."""
    return f"lnschema_{name}"


def _is_installed(package: str) -> bool:
    try:
        # find_spec of a top-level name locates the package without importing it
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def validate_schema_arg(schema: str | None) -> str:
    """The schema modules as `a,b`: no spaces, no `core`, no repeats; unknown ones raise."""
    if not schema:
        return ""
    names: list[str] = []
    for part in schema.split(","):
        name = part.strip()
        if name and name != "core" and name not in names:
            names.append(name)
    unknown = [
        name
        for name in names
        if name not in KNOWN_SCHEMA_MODULES
        and not (name.isidentifier() and _is_installed(get_schema_module_name(name)))
    ]
    if unknown:
        packages = " ".join(get_schema_module_name(name) for name in unknown)
        raise SetupValueError(
            f"Unknown schema module{'s' if len(unknown) > 1 else ''}"
            f" {', '.join(repr(name) for name in unknown)}: install"
            f" {'them' if len(unknown) > 1 else 'it'} with `pip install {packages}`"
            f" or fix the --schema argument"
        )
    return ",".join(names)


def mask_url_password(url: str) -> str:
    """`url` with the password of its user info replaced by `***`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    # the last "@" ends the user info, even if the password contains "@" itself
    at = rest.rfind("@")
    if at < 0:
        return url
    user, colon, _password = rest[:at].partition(":")
    if not colon:
        return url
    return f"{scheme}://{user}:***@{rest[at + 1 :]}"


def validate_storage_root_arg(root: str) -> None:
    """Raise `SetupValueError` unless `root` is a local path, `s3://bucket…` or `gs://bucket…`."""
    if not isinstance(root, str) or not root.strip():
        raise SetupValueError(
            "The storage root must not be empty: pass a local directory, s3://bucket or gs://bucket"
        )
    scheme, sep, rest = root.partition("://")
    if not sep:
        return  # a local path
    shown = mask_url_password(root)
    if scheme.lower() not in CLOUD_SCHEMES:
        raise SetupValueError(
            f"Unsupported storage root '{shown}': use a local directory, s3://bucket/… or"
            " gs://bucket/…"
        )
    bucket = rest.split("/", 1)[0]
    if not bucket.strip():
        raise SetupValueError(
            f"Storage root '{shown}' names no bucket: use {scheme.lower()}://bucket-name/…"
        )


def validate_db_arg(db: str | None) -> None:
    """Raise `SetupValueError` unless `db` is `None`, a Postgres URL or `sqlite:///path`."""
    if db is None:
        return
    fix = (
        "use postgresql://USER@HOST:PORT/DBNAME (USER:PASSWORD@ with a password) or sqlite:///FILE"
    )
    if not isinstance(db, str):
        raise SetupValueError(f"Invalid db URL: expected a string; {fix}")
    invalid = SetupValueError(f"Invalid db URL '{mask_url_password(db)}': {fix}")
    try:
        parts = urlsplit(db)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise invalid from None
    scheme = parts.scheme.lower()
    if scheme in ("postgresql", "postgres"):
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname or "/" in dbname:
            raise invalid
        return
    if scheme == "sqlite":
        if parts.netloc or not parts.path.strip("/"):
            raise invalid
        return
    raise invalid


def get_storage_region(root: str) -> str | None:
    """The region of an s3 bucket, the location of a gs bucket, `None` for a local root."""
    scheme, sep, rest = str(root).partition("://")
    if not sep:
        return None
    bucket = rest.split("/", 1)[0]
    if scheme.lower() == "s3":
        return _s3_bucket_region(bucket)
    if scheme.lower() == "gs":
        return _gs_bucket_location(bucket)
    return None


def _s3_bucket_region(bucket: str) -> str:
    # botocore honours AWS_ENDPOINT_URL(_S3) itself, so a local S3 server just works
    from botocore.exceptions import BotoCoreError, ClientError

    from ..dev._s3 import s3_client

    client = s3_client()
    try:
        response = client.get_bucket_location(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404"):
            raise SetupValueError(f"S3 bucket '{bucket}' does not exist") from None
        # without s3:GetBucketLocation, S3 still names the region in HEAD answers
        region = _s3_region_from_head(client, bucket)
        if region:
            return region
        raise SetupRuntimeError(f"Cannot get the region of S3 bucket '{bucket}': {code}") from None
    except BotoCoreError as exc:
        raise SetupRuntimeError(f"Cannot get the region of S3 bucket '{bucket}': {exc}") from None
    constraint = response.get("LocationConstraint")
    if not constraint:
        return "us-east-1"  # S3 reports its oldest region as no constraint
    if constraint == "EU":
        return "eu-west-1"  # legacy name of the same region
    return constraint


def _s3_region_from_head(client, bucket: str) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        response = exc.response
    except BotoCoreError:
        return None
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers.get("x-amz-bucket-region")


def _gs_bucket_location(bucket: str) -> str | None:
    """The bucket's location, lower-case (e.g. `us-central1`); `None` if it cannot be asked."""
    try:
        from google.cloud import storage
    except ImportError:
        storage = None
    if storage is not None:
        try:
            location = storage.Client().get_bucket(bucket).location
        except Exception:
            return None
        return location.lower() if location else None
    try:
        import gcsfs
    except ImportError:
        return None
    try:
        metadata = gcsfs.GCSFileSystem().call("GET", "b/{}", bucket, json_out=True)
    except Exception:
        return None
    location = metadata.get("location") if isinstance(metadata, dict) else None
    return location.lower() if location else None
