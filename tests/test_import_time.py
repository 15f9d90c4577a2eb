"""`import lamindb_setup` and light CLI commands must not load heavy packages (SPEC §2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "django",
    "fsspec",
    "s3fs",
    "upath",
    "pydantic",
    "requests",
    "psycopg",
    "boto3",
    "botocore",
)


def heavy_in(modules) -> list[str]:
    return sorted({name for name in modules if name.split(".")[0] in HEAVY})


def imported_by_importtime(stderr: str) -> list[str]:
    """Module names from the `-X importtime` report on stderr."""
    names = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.append(name)
    return names


def test_importtime_parser_sees_heavy_imports():
    # guards the tests below against a parser that finds nothing
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import django.conf"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "django.conf" in heavy_in(imported_by_importtime(result.stderr))


def test_import_lamindb_setup_is_light():
    code = "import sys, json, lamindb_setup; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout)
    assert "lamindb_setup" in modules
    assert heavy_in(modules) == []


@pytest.mark.parametrize("args", [("--help",), ("init", "--help"), ("info",), ("close",)])
def test_cli_without_instance_is_light(args):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lamindb_setup", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    modules = imported_by_importtime(result.stderr)
    assert "lamindb_setup._settings" in modules or args[-1] == "--help"
    assert "lamindb_setup" in modules
    assert heavy_in(modules) == []


@pytest.mark.parametrize("command", ["info", "close"])
def test_cli_with_loaded_instance_does_not_load_django(user, command):
    import lamindb_setup as ln_setup

    ln_setup.init(storage="./mydata")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lamindb_setup", command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "testuser1/mydata" in result.stdout  # it did see the instance
    assert heavy_in(imported_by_importtime(result.stderr)) == []
