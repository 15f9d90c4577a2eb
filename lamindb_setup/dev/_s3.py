"""A plain S3 client from botocore (which s3fs brings along); no boto3 needed."""

from __future__ import annotations

from typing import Any


def s3_client(profile: str | None = None, **client_kwargs: Any):
    """A botocore S3 client; credentials, profiles and `AWS_ENDPOINT_URL` as in the AWS config."""
    import botocore.session

    session = botocore.session.Session(profile=profile)
    return session.create_client("s3", **client_kwargs)
