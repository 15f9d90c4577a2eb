"""lnschema_core: cheap import, ids, and the models on a local SQLite instance."""

from __future__ import annotations

import importlib.util
import json
import keyword
import string
import subprocess
import sys
import types
from pathlib import Path

import pytest

import lamindb_setup as ln_setup
from lnschema_core import ids
from lnschema_core.types import TransformType

BASE26 = set(string.ascii_lowercase)
BASE62 = set(string.digits + string.ascii_letters)
BASE64 = BASE62 | {"-", "_"}


# --- without an instance ---------------------------------------------------------------


def test_import_without_instance_is_cheap(home):
    code = (
        "import json, sys, lnschema_core\n"
        "from lnschema_core import ids, types\n"
        "try:\n"
        "    lnschema_core.File\n"
        "    error = None\n"
        "except ImportError as exc:\n"
        "    error = str(exc)\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'error': error, 'id': ids.file()}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert not [name for name in report["modules"] if name.split(".")[0] == "django"]
    assert "lamin load" in report["error"]  # models need an instance, and it says so
    assert len(report["id"]) == 20


def test_models_module_without_instance_says_what_to_do(home):
    code = "import lnschema_core.models"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError")
    assert "lamin load" in last_line


@pytest.mark.parametrize(
    "make, length, alphabet",
    [
        (ids.schema, 4, BASE26),
        (ids.user, 8, BASE62),
        (ids.storage, 8, BASE62),
        (ids.project, 8, BASE62),
        (ids.instance, 12, BASE62),
        (ids.transform, 12, BASE62),
        (ids.file, 20, BASE62),
        (ids.folder, 20, BASE62),
        (ids.run, 20, BASE62),
        (ids.usage, 24, BASE62),
        (ids.secret, 40, BASE62),
    ],
)
def test_id_lengths_and_alphabets(make, length, alphabet):
    values = {make() for _ in range(50)}
    assert len(values) > 45  # random, not constant
    for value in values:
        assert len(value) == length
        assert set(value) <= alphabet


@pytest.mark.parametrize(
    "make, alphabet", [(ids.base26, BASE26), (ids.base62, BASE62), (ids.base64, BASE64)]
)
def test_base_n_uses_the_whole_alphabet(make, alphabet):
    text = make(5000)
    assert len(text) == 5000
    assert set(text) == alphabet
    assert make(0) == ""


def test_transform_type_values():
    assert [t.value for t in TransformType] == ["pipeline", "notebook", "app"]
    assert TransformType("notebook") is TransformType.notebook
    assert str(TransformType.app) == "app"
    assert TransformType.pipeline == "pipeline"
    with pytest.raises(ValueError):
        TransformType("script")


# --- with an instance ------------------------------------------------------------------


@pytest.fixture
def instance(user, shared_cache, monkeypatch):
    """A local SQLite instance `testuser1/mydata`, loaded."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    assert ln_setup.init(storage="./mydata") is None
    return ln_setup.settings.instance


def test_models_import_once_instance_is_loaded(instance):
    import lnschema_core

    assert lnschema_core.File._meta.db_table == "lnschema_core_file"
    assert lnschema_core.User.objects.get(handle="testuser1").email == "testuser1@lamin.ai"


def test_models_module_in_a_new_process_uses_the_loaded_instance(instance):
    code = (
        "from lnschema_core.models import Storage, User\n"
        "print(Storage.objects.get().root, User.objects.get().handle)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [instance.storage.root_as_str, "testuser1"]


def test_transform_run_file(instance, user):
    from lnschema_core.models import File, Run, Storage, Transform

    storage = Storage.objects.first()
    assert storage.root == instance.storage.root_as_str
    assert storage.created_by_id == user.id

    transform = Transform.objects.create(name="my pipeline")
    assert len(transform.id) == 12
    assert transform.version == "0"
    assert transform.created_by_id == user.id

    run = Run.objects.create(transform=transform)
    assert len(run.id) == 20
    assert run.created_by_id == user.id

    by_id = File.objects.create(name="a.csv", suffix=".csv", storage=storage, run=run)
    by_key = File.objects.create(name="b.csv", key="raw/b.csv", storage=storage)
    root = Path(instance.storage.root_as_str)
    assert len(by_id.id) == 20
    assert by_id.path() == root / f"{by_id.id}.csv"
    assert by_key.path() == root / "raw" / "b.csv"
    assert list(run.outputs.all()) == [by_id]

    run.inputs.add(by_key)
    assert list(by_key.input_of.all()) == [run]
    assert list(transform.runs.all()) == [run]


def test_transform_type_default(instance, monkeypatch):
    from lnschema_core.models import Transform

    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert Transform.objects.create(name="script").type == "pipeline"
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    assert Transform.objects.create(name="nb").type == "notebook"


def test_transform_name_and_version_are_unique(instance):
    from django.db import IntegrityError, transaction

    from lnschema_core.models import Transform

    Transform.objects.create(name="t", version="1")
    Transform.objects.create(name="t", version="2")
    with pytest.raises(IntegrityError), transaction.atomic():
        Transform.objects.create(name="t", version="1")


def test_queryset_extras(instance):
    from lnschema_core.models import MultipleResultsFound, NoResultFound, Transform

    first = Transform.objects.create(name="first")
    Transform.objects.create(name="second")

    records = Transform.objects.order_by("name").list()
    assert isinstance(records, list) and [t.name for t in records] == ["first", "second"]
    assert Transform.objects.order_by("name").first() == first
    assert Transform.objects.filter(name="first").one() == first
    with pytest.raises(NoResultFound):
        Transform.objects.filter(name="nope").one()
    with pytest.raises(MultipleResultsFound):
        Transform.objects.all().one()
    assert Transform.objects.filter(name="nope").one_or_none() is None
    assert Transform.objects.filter(name="first").one_or_none() == first
    with pytest.raises(MultipleResultsFound):
        Transform.objects.all().one_or_none()


@pytest.mark.skipif(importlib.util.find_spec("pandas") is not None, reason="pandas is installed")
def test_df_without_pandas_says_how_to_install(instance):
    from lnschema_core.models import Transform

    with pytest.raises(ImportError, match="pip install pandas"):
        Transform.objects.all().df()


def test_lookup(instance):
    from lnschema_core.models import Transform

    records = {
        name: Transform.objects.create(name=name)
        for name in ["My pipeline", "my-pipeline", "1st step", "class"]
    }
    Transform.objects.create(name=None, version="x")

    lookup = Transform.lookup()
    assert sorted(lookup._fields) == ["class_", "my_pipeline", "my_pipeline_2", "n1st_step"]
    for key in lookup._fields:
        assert key.isidentifier() and not keyword.iskeyword(key)
    assert lookup.my_pipeline == records["My pipeline"]
    assert lookup.my_pipeline_2 == records["my-pipeline"]
    assert lookup.n1st_step == records["1st step"]
    assert lookup.class_ == records["class"]

    by_version = Transform.lookup("version")
    assert by_version._fields == ("n0", "n0_2", "n0_3", "n0_4", "x")
    assert by_version.n0 == records["My pipeline"]  # the oldest record keeps the plain key
    with pytest.raises(ValueError, match="no field"):
        Transform.lookup("nope")


def test_repr_is_readable(instance, user):
    from lnschema_core.models import Storage, Transform, User

    transform = Transform.objects.create(name="my pipeline", version="1")
    text = repr(transform)
    assert text.startswith("Transform(")
    assert f"id='{transform.id}'" in text
    assert "name='my pipeline'" in text
    assert "version='1'" in text
    assert "title" not in text  # None values are left out
    assert repr(User.objects.get(id=user.id)).startswith(f"User(id='{user.id}'")
    assert f"root='{instance.storage.root_as_str}'" in repr(Storage.objects.first())
