"""The settings files in ~/.lamin: names, format, permissions, atomic writes, isolation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lamindb_setup._settings import settings
from lamindb_setup.dev._errors import SettingsFileError
from lamindb_setup.dev._settings_instance import InstanceSettings
from lamindb_setup.dev._settings_load import load_instance_settings, load_user_settings
from lamindb_setup.dev._settings_save import (
    save_instance_settings,
    save_user_settings,
    write_settings_file,
)
from lamindb_setup.dev._settings_store import (
    current_instance_settings_file,
    current_user_settings_file,
    instance_settings_file,
    settings_dir,
)
from lamindb_setup.dev._settings_user import UserSettings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_settings_dir_is_private(home):
    path = settings_dir()
    assert path == home / ".lamin"
    assert mode(path) == 0o700


def test_read_hand_written_user_file(home):
    path = current_user_settings_file()
    path.write_text(
        "email=a@b.org\npassword=secret\naccess_token=null\nid=abcdEFGH\nhandle=a\nname=null\n"
    )
    user = load_user_settings(path)
    assert user == UserSettings(email="a@b.org", password="secret", id="abcdEFGH", handle="a")
    assert settings.user.id == "abcdEFGH"


def test_user_file_roundtrip_and_format(home):
    user = UserSettings(
        email="x@y.com", password="pw", access_token="t.o.k", id="12345678", handle="x"
    )
    save_user_settings(user)
    text = current_user_settings_file().read_text()
    assert text.splitlines() == [
        "email=x@y.com",
        "password=pw",
        "access_token=t.o.k",
        "id=12345678",
        "handle=x",
        "name=null",
    ]
    for name in ("current_user.env", "user--x@y.com.env", "user--x.env"):
        assert mode(home / ".lamin" / name) == 0o600
    assert load_user_settings(current_user_settings_file()) == user


def test_instance_file_roundtrip(home, tmp_path):
    isettings = InstanceSettings(
        owner="me", name="inst", storage_root=tmp_path / "s", schema="bionty"
    )
    save_instance_settings(isettings)
    path = instance_settings_file("inst", "me")
    assert path.name == "instance--me--inst.env"
    assert path.read_text() == current_instance_settings_file().read_text()
    assert path.read_text().splitlines() == [
        "owner=me",
        "name=inst",
        f"storage_root={(tmp_path / 's').resolve().as_posix()}",
        "storage_region=null",
        "db=null",
        "schema_str=bionty",
    ]
    loaded = load_instance_settings(path)
    assert (loaded.owner, loaded.name, loaded.schema, loaded.dialect) == (
        "me",
        "inst",
        {"bionty"},
        "sqlite",
    )
    assert mode(path) == 0o600


def test_missing_key_names_file_and_fix(home):
    path = current_user_settings_file()
    path.write_text("email=a@b.org\n")
    with pytest.raises(SettingsFileError) as info:
        load_user_settings(path)
    message = str(info.value)
    assert str(path) in message and "password" in message and "lamin login" in message
    assert "\n" not in message


def test_unparsable_line(home):
    path = current_instance_settings_file()
    path.write_text("this is not a settings file\n")
    with pytest.raises(SettingsFileError, match="Cannot parse line 1"):
        settings.instance  # noqa: B018


def test_environment_variables_do_not_override(home, tmp_path, monkeypatch):
    isettings = InstanceSettings(owner="me", name="inst", storage_root=tmp_path / "s")
    save_instance_settings(isettings)
    monkeypatch.setenv("NAME", "other")
    monkeypatch.setenv("DB", "postgresql://u:p@h:5432/x")
    monkeypatch.setenv("OWNER", "someone")
    settings._reset()
    assert settings.instance.name == "inst"
    assert settings.instance.owner == "me"
    assert settings.instance.dialect == "sqlite"


def test_atomic_write_keeps_old_file_on_failure(home):
    path = settings_dir() / "x.env"
    write_settings_file(path, {"a": "1"})
    with pytest.raises(ValueError):
        write_settings_file(path, {"a": "2", "b": "line\nbreak"})
    assert path.read_text() == "a=1\n"
    assert [p.name for p in settings_dir().iterdir() if p.name.endswith(".tmp")] == []


def test_lamin_env_staging_prefix(home, monkeypatch):
    save_user_settings(UserSettings(email="p@q.org", id="abcdefgh", handle="p"))
    assert settings.user.handle == "p"
    monkeypatch.setenv("LAMIN_ENV", "staging")
    assert current_user_settings_file().name == "staging-current_user.env"
    assert not settings._user_exists  # settings re-read when LAMIN_ENV changes
    save_user_settings(UserSettings(email="s@q.org", id="stagingx", handle="s"))
    assert settings.user.handle == "s"
    monkeypatch.setenv("LAMIN_ENV", "prod")
    assert settings.user.handle == "p"


def test_legacy_lndb_is_migrated(home):
    legacy = home / ".lndb"
    legacy.mkdir()
    (legacy / "current_user.env").write_text(
        "email=l@g.org\npassword=pw\naccess_token=null\nid=legacy01\nhandle=l\nname=null\n"
    )
    assert settings.user.id == "legacy01"
    assert (home / ".lamin" / "current_user.env").exists()
    assert mode(home / ".lamin" / "current_user.env") == 0o600
    assert not legacy.exists()


def test_user_without_id_must_login(home):
    save_user_settings(UserSettings(email="n@o.org", password="pw"))
    with pytest.raises(RuntimeError, match="Need to login, first: lamin login n@o.org"):
        settings.user  # noqa: B018


def test_no_instance_loaded(home):
    with pytest.raises(
        RuntimeError, match="No instance is loaded! Call `lamin init` or `lamin load`"
    ):
        settings.instance  # noqa: B018
    assert settings._instance_exists is False


def test_reprs_hide_secrets(home):
    user = UserSettings(
        email="x@y.com", password="hunter2", access_token="tok123", id="1", handle="x"
    )
    assert "hunter2" not in repr(user) and "tok123" not in repr(user)
    assert repr(user).splitlines()[0] == "Current user: x"
    isettings = InstanceSettings(
        owner="x",
        name="pg",
        storage_root="s3://bkt",
        db="postgresql://u:hunter2@db.example.com:5432/pg",
    )
    text = repr(isettings)
    assert "hunter2" not in text and "postgresql://u:***@db.example.com:5432/pg" in text
    assert text.splitlines()[0] == "Current instance: x/pg"
    assert os.environ.get("HOME") == str(home)
