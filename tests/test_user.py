"""Sign up and log in: what lands in ~/.lamin and what the user is told."""

from __future__ import annotations

import stat
import string
from pathlib import Path

import pytest

import lamindb_setup as ln_setup
from lamindb_setup._settings import settings

EMAIL = "testuser1@lamin.ai"
BASE62 = set(string.digits + string.ascii_letters)


def read_env(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def settings_file(name: str) -> Path:
    """A file in the current HOME's `~/.lamin`."""
    return Path.home() / ".lamin" / name


def test_signup_caches_password_and_logs_in(home, capsys):
    assert ln_setup.signup(EMAIL) is None

    lamin = home / ".lamin"
    current = read_env(lamin / "current_user.env")
    by_email = lamin / f"user--{EMAIL}.env"
    assert read_env(by_email) == current
    assert mode(by_email) == 0o600
    assert mode(lamin / "current_user.env") == 0o600

    password = current["password"]
    assert len(password) == 40 and set(password) <= BASE62
    out = capsys.readouterr().out
    assert password in out
    assert str(lamin) in out  # tells where the password is cached

    # signup logs in: the account id, handle and a token are cached as well
    assert current["email"] == EMAIL
    assert current["handle"] == "testuser1"
    assert len(current["id"]) == 8 and set(current["id"]) <= BASE62
    assert current["access_token"] != "null"
    assert read_env(lamin / "user--testuser1.env") == current
    assert settings.user.id == current["id"]
    assert settings.user.handle == "testuser1"


def test_signup_twice_is_user_exists(home, capsys):
    ln_setup.signup(EMAIL)
    first = (home / ".lamin" / "current_user.env").read_text()
    capsys.readouterr()

    assert ln_setup.signup(EMAIL) == "user-exists"
    assert "user-exists" in capsys.readouterr().err
    # the cached credentials of the first signup stay valid
    assert (home / ".lamin" / "current_user.env").read_text() == first


def test_signup_with_taken_handle_is_handle_exists(home):
    ln_setup.signup(EMAIL)
    assert ln_setup.signup("testuser1@other.org") == "handle-exists"
    assert not (home / ".lamin" / "user--testuser1@other.org.env").exists()


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@at@signs.org", "a b@c.org"])
def test_signup_with_invalid_email_is_value_error(home, email):
    with pytest.raises(ValueError, match="email"):
        ln_setup.signup(email)
    assert not (home / ".lamin" / "current_user.env").exists()


def test_login_needs_an_argument(home):
    with pytest.raises(TypeError):
        ln_setup.login()


@pytest.fixture
def second_machine(home, tmp_path, monkeypatch):
    """Sign up on one HOME, then switch to a fresh HOME that shares the hub.

    Yields the generated password.
    """
    monkeypatch.setenv("LAMIN_HUB_DIR", str(tmp_path / "hub"))
    ln_setup.signup(EMAIL)
    password = settings.user.password
    fresh = tmp_path / "second-home"
    fresh.mkdir()
    monkeypatch.setenv("HOME", str(fresh))
    yield password


def test_first_login_by_handle_is_runtime_error(second_machine):
    with pytest.raises(RuntimeError, match="email"):
        ln_setup.login("testuser1")


def test_login_without_any_password_is_runtime_error(second_machine):
    with pytest.raises(RuntimeError, match="--password"):
        ln_setup.login(EMAIL)


def test_login_with_wrong_password(second_machine, capsys):
    assert ln_setup.login(EMAIL, password="wrong" * 8) == "could-not-login"
    assert "Could not login" in capsys.readouterr().err
    assert not settings._user_exists  # nothing was cached


def test_login_caches_credentials_then_handle_works(second_machine, capsys):
    lamin = Path.home() / ".lamin"
    assert ln_setup.login(EMAIL, password=second_machine) is None

    current = read_env(lamin / "current_user.env")
    assert current["password"] == second_machine
    assert current["handle"] == "testuser1"
    assert len(current["id"]) == 8
    assert read_env(lamin / f"user--{EMAIL}.env") == current
    assert read_env(lamin / "user--testuser1.env") == current
    assert mode(lamin / "user--testuser1.env") == 0o600

    # forget the current user: the handle alone finds the cached password
    (lamin / "current_user.env").unlink()
    settings._reset()
    capsys.readouterr()
    assert ln_setup.login("testuser1") is None
    assert "Logged in" in capsys.readouterr().out
    assert settings.user.email == EMAIL
    assert read_env(lamin / "current_user.env")["id"] == current["id"]


def test_wrong_password_keeps_cached_login(user, capsys):
    user_file = settings_file("current_user.env")
    before = user_file.read_text()
    assert ln_setup.login(EMAIL, password="x" * 40) == "could-not-login"
    assert user_file.read_text() == before
    assert settings.user.password == user.password


def test_user_repr_hides_secrets(user):
    text = repr(settings.user)
    assert text.splitlines()[0] == "Current user: testuser1"
    assert f"- email: {EMAIL}" in text
    assert f"- id: {user.id}" in text
    assert user.password not in text
    assert user.access_token not in text
    assert str(settings.user) == text


def test_user_file_without_id_needs_login(home):
    lamin = home / ".lamin"
    lamin.mkdir()
    (lamin / "current_user.env").write_text(
        f"email={EMAIL}\npassword=pw\naccess_token=null\nid=null\nhandle=null\nname=null\n"
    )
    with pytest.raises(RuntimeError, match=f"Need to login, first: lamin login {EMAIL}"):
        settings.user  # noqa: B018
