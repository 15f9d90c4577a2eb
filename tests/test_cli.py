"""The `lamin` command line, run in subprocesses: help, exit codes, one-line errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_lamin

COMMANDS = (
    "signup",
    "login",
    "init",
    "load",
    "close",
    "delete",
    "info",
    "set",
    "register",
    "migrate",
    "schema",
    "track",
)


def assert_one_line_error(result, *, contains: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert contains in lines[0]


def test_help_lists_all_subcommands():
    result = run_lamin("--help")  # run_lamin runs `python -m lamindb_setup`
    assert result.returncode == 0
    assert result.stdout.startswith("usage: lamin")
    listed = set(re.findall(r"^ {4}(\w+) ", result.stdout, flags=re.MULTILINE))
    assert listed == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_subcommand_help(command):
    result = run_lamin(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: lamin {command}")


def test_console_script_help():
    lamin = shutil.which("lamin")
    assert lamin is not None, "the `lamin` console script is not installed"
    result = subprocess.run([lamin, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "signup" in result.stdout


def test_unknown_subcommand_is_usage_error():
    result = run_lamin("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_user_and_instance_end_to_end(tmp_path):
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    lamin = home / ".lamin"

    def lamin_cmd(*args: str):
        return run_lamin(*args, env={"HOME": str(home)}, cwd=work)

    result = lamin_cmd("signup", "testuser1@lamin.ai")
    assert result.returncode == 0, result.stderr
    password = re.search(r"password: (\S+)", result.stdout).group(1)
    assert len(password) == 40
    assert f"password={password}" in (lamin / "user--testuser1@lamin.ai.env").read_text()

    result = lamin_cmd("login", "testuser1")  # from the cache
    assert result.returncode == 0, result.stderr
    assert "Logged in" in result.stdout

    result = lamin_cmd("init", "--storage", "./mydata")
    assert result.returncode == 0, result.stderr
    assert (work / "mydata" / "mydata.lndb").is_file()
    assert (lamin / "current_instance.env").is_file()

    result = lamin_cmd("info")
    assert result.returncode == 0
    assert "Current instance: testuser1/mydata" in result.stdout
    assert password not in result.stdout

    result = lamin_cmd("migrate", "deploy")
    assert result.returncode == 0, result.stderr  # migrate-unnecessary is a success

    result = lamin_cmd("schema", "list")
    assert result.returncode == 0
    assert "lnschema_core_file" in result.stdout.split()

    result = lamin_cmd("set", "--storage", "./elsewhere")
    assert result.returncode == 1
    assert "set-storage-failed" in result.stderr

    result = lamin_cmd("close")
    assert result.returncode == 0
    assert "Closed testuser1/mydata" in result.stdout
    assert not (lamin / "current_instance.env").exists()

    result = lamin_cmd("load", "testuser1/mydata")
    assert result.returncode == 0, result.stderr
    assert (lamin / "current_instance.env").is_file()

    result = lamin_cmd("delete", "mydata")
    assert result.returncode == 0, result.stderr
    assert not (lamin / "current_instance.env").exists()
    assert not (lamin / "instance--testuser1--mydata.env").exists()
    assert not (work / "mydata" / "mydata.lndb").exists()


def test_load_unknown_instance_exits_1(user):
    result = run_lamin("load", "nope")
    assert result.returncode == 1
    assert "instance-not-reachable" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_init_invalid_name_is_one_line(user, home):
    result = run_lamin("init", "--storage", "./x", "--name", "a/b")
    assert_one_line_error(result, contains="--name")
    assert not Path("x").exists()


def test_login_by_handle_on_fresh_home_is_one_line(home):
    result = run_lamin("login", "someone")
    assert_one_line_error(result, contains="email")
    assert not (home / ".lamin" / "current_user.env").exists()


def test_init_not_logged_in_is_one_line(home):
    result = run_lamin("init", "--storage", "./x")
    assert_one_line_error(result, contains="login")
    assert not Path("x").exists()
