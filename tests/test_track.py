"""`lamin track`: nbproject metadata (id, version, time_init) in a notebook."""

from __future__ import annotations

import json
import string
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import run_lamin

import lamindb_setup as ln_setup

BASE62 = set(string.digits + string.ascii_letters)
CELLS = [{"cell_type": "code", "metadata": {}, "source": ["1 + 1"], "outputs": []}]


def write_notebook(path: Path, metadata: dict | None = None) -> Path:
    content = {"cells": CELLS, "nbformat": 4, "nbformat_minor": 5}
    if metadata is not None:
        content["metadata"] = metadata
    path.write_text(json.dumps(content))
    return path


def nbproject(path: Path) -> dict:
    return json.loads(path.read_text())["metadata"]["nbproject"]


def test_track_adds_metadata(home):
    notebook = write_notebook(Path("analysis.ipynb"))  # no "metadata" key at all
    assert ln_setup.track(notebook) is None

    content = json.loads(notebook.read_text())
    meta = content["metadata"]["nbproject"]
    assert len(meta["id"]) == 12 and set(meta["id"]) <= BASE62
    assert meta["version"] == "0"
    time_init = datetime.fromisoformat(meta["time_init"])
    assert abs(datetime.now(timezone.utc) - time_init) < timedelta(minutes=5)
    assert content["cells"] == CELLS  # the notebook itself is untouched
    assert content["nbformat"] == 4


def test_track_keeps_other_metadata(home):
    kernel = {"name": "python3", "display_name": "Python 3"}
    notebook = write_notebook(Path("nb.ipynb"), {"kernelspec": kernel})
    ln_setup.track(notebook)
    content = json.loads(notebook.read_text())
    assert content["metadata"]["kernelspec"] == kernel
    assert len(content["metadata"]["nbproject"]["id"]) == 12


def test_track_records_pypackage_versions(home):
    notebook = write_notebook(Path("nb.ipynb"))
    ln_setup.track(notebook, pypackage="pytest")
    assert nbproject(notebook)["pypackage"] == {"pytest": pytest.__version__}


def test_track_unknown_pypackage_is_value_error(home):
    notebook = write_notebook(Path("nb.ipynb"))
    before = notebook.read_text()
    with pytest.raises(ValueError, match="not-a-package-xyz"):
        ln_setup.track(notebook, pypackage="not-a-package-xyz")
    assert notebook.read_text() == before


@pytest.mark.parametrize("name", ["script.py", "notes.txt"])
def test_track_needs_a_notebook(home, name):
    Path(name).write_text("print(1)\n")
    with pytest.raises(ValueError, match="ipynb"):
        ln_setup.track(name)
    assert Path(name).read_text() == "print(1)\n"


def test_cli_track_non_notebook_is_one_line_error(home):
    Path("script.py").write_text("print(1)\n")
    result = run_lamin("track", "script.py")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("answer, replaced", [("n\n", False), ("", False), ("y\n", True)])
def test_cli_track_asks_before_replacing(home, answer, replaced):
    existing = {"id": "KEEPme123456", "version": "3", "time_init": "2022-01-01T00:00:00"}
    notebook = write_notebook(Path("nb.ipynb"), {"nbproject": existing})
    before = notebook.read_text()

    result = run_lamin("track", "nb.ipynb", input=answer)
    assert result.returncode == 0, result.stderr
    assert "Replace" in result.stdout
    if replaced:
        meta = nbproject(notebook)
        assert meta["id"] != existing["id"] and len(meta["id"]) == 12
        assert meta["version"] == "0"
    else:
        assert notebook.read_text() == before
