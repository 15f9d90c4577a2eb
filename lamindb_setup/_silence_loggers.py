"""Quiet chatty third-party loggers while lamindb_setup works."""

from __future__ import annotations

import logging

_NOISY = ("botocore", "boto3", "s3fs", "fsspec", "aiobotocore", "urllib3", "asyncio")


def silence_loggers() -> None:
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
