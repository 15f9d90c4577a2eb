"""The verbs against the HTTP hub service: a team shares accounts and instances."""

from __future__ import annotations

import threading

import pytest
from conftest import run_lamin

import lamindb_setup as ln_setup
from lamindb_setup._hub._server import make_server
from lamindb_setup._settings import settings


@pytest.fixture
def hub_url(tmp_path, monkeypatch):
    server = make_server(tmp_path / "hub-service")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    monkeypatch.setenv("LAMIN_HUB_URL", server.url)
    yield server.url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def switch_home(monkeypatch, path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(path / ".cache"))
    settings._reset()


def test_team_shares_a_cloud_instance_through_the_hub_service(
    hub_url, s3, bucket, home, tmp_path, monkeypatch
):
    assert ln_setup.signup("owner@lamin.ai") is None
    assert ln_setup.init(storage=f"s3://{bucket}") is None  # remote: registered on the hub
    # nothing about accounts or instances is kept in the embedded registry
    assert not (home / ".lamin" / "hub.sqlite3").exists()
    # a teammate on another machine finds the instance through the service
    switch_home(monkeypatch, tmp_path / "teammate")
    assert ln_setup.signup("mate@lamin.ai") is None
    assert ln_setup.load(f"owner/{bucket}") is None
    assert settings.instance.storage.root_as_str == f"s3://{bucket}"
    # and through the CLI
    assert run_lamin("close").returncode == 0
    result = run_lamin("load", f"owner/{bucket}")
    assert result.returncode == 0, result.stderr
    # only the owner may delete it from the registry
    switch_home(monkeypatch, home)
    assert ln_setup.delete(bucket) is None
    switch_home(monkeypatch, tmp_path / "teammate")
    # the hub forgot it; the teammate's own settings file remains, its database is gone
    with pytest.raises(RuntimeError, match="does not exist"):
        ln_setup.load(f"owner/{bucket}")


def test_local_instance_is_not_registered_on_the_hub_service(hub_url, home, capsys):
    ln_setup.signup("owner@lamin.ai")
    ln_setup.init(storage="./local")
    assert "Not registering local instance on hub" in capsys.readouterr().out
    from lamindb_setup._hub import get_hub

    assert get_hub().load_instance(
        owner="owner", name="local", access_token=settings.user.access_token
    ) == ("instance-not-reachable")
    assert ln_setup.register() is None
    records = get_hub().load_instance(
        owner="owner", name="local", access_token=settings.user.access_token
    )
    assert records[0].name == "local"


def test_unreachable_hub_service(home, monkeypatch):
    monkeypatch.setenv("LAMIN_HUB_URL", "http://127.0.0.1:9")
    result = run_lamin("signup", "someone@lamin.ai")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "127.0.0.1:9" in result.stderr


def test_load_falls_back_to_local_settings_when_the_hub_is_down(home, monkeypatch, capsys):
    ln_setup.signup("owner@lamin.ai")
    ln_setup.init(storage="./local")
    ln_setup.close()
    monkeypatch.setenv("LAMIN_HUB_URL", "http://127.0.0.1:9")
    capsys.readouterr()
    assert ln_setup.load("local") is None
    assert "127.0.0.1:9" in capsys.readouterr().err  # a warning names the hub
    assert settings.instance.identifier == "owner/local"
