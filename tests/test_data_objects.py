"""lnschema_core data objects: File, Folder, Transform, Run and Features on their own.

Most tests run twice: on a local instance (`./mydata`) and on an S3 instance (moto).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import keyword
import sqlite3
from pathlib import Path

import pytest

import lamindb_setup as ln_setup


def md5_b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.md5(data).digest()).decode().rstrip("=")


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def read(path) -> bytes:
    """Bytes of a local `Path` or a cloud `UPath`."""
    return path.read_bytes()


def exists(path) -> bool:
    if str(path).startswith("s3://"):
        path.fs.invalidate_cache()
    return path.exists()


def stored_objects(root) -> list[str]:
    """Keys of all data objects in the storage (without the SQLite file and the lock)."""
    if str(root).startswith("s3://"):
        root.fs.invalidate_cache()
        base = root.path.rstrip("/")
        keys = [item[len(base) + 1 :] for item in root.fs.find(base)]
    else:
        keys = [p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file()]
    return sorted(k for k in keys if not k.endswith(".lndb") and not k.startswith("exclusion/"))


@pytest.fixture(params=["local", "s3"])
def instance(request, user):
    """A loaded instance whose storage is `./mydata` or a fresh moto S3 bucket."""
    if request.param == "local":
        assert ln_setup.init(storage="./mydata") is None
    else:
        bucket = request.getfixturevalue("bucket")
        assert ln_setup.init(storage=f"s3://{bucket}") is None
    return ln_setup.settings.instance


@pytest.fixture
def local_instance(user):
    assert ln_setup.init(storage="./mydata") is None
    return ln_setup.settings.instance


def put_in_storage(key: str, data: bytes) -> object:
    """Write an object into the instance's storage by hand; give its path."""
    path = ln_setup.settings.storage.key_to_filepath(key)
    if str(path).startswith("s3://"):
        path.fs.pipe_file(path.path, data)
        path.fs.invalidate_cache()
    else:
        write(path, data)
    return path


# --- File ----------------------------------------------------------------------------------


def test_file_outside_storage_is_copied_on_save(instance, tmp_path, capsys):
    from lnschema_core.models import File, Storage

    data = b"a,b\n1,2\n"
    source = write(tmp_path / "data.csv", data)
    file = File(source)
    verb = "upload" if instance.storage.is_cloud else "copy"
    assert f"file.save() will {verb} it to" in capsys.readouterr().out

    assert len(file.id) == 20
    assert (file.name, file.suffix, file.size) == ("data.csv", ".csv", len(data))
    assert file.hash == md5_b64(data)
    assert file.key is None
    assert file.storage == Storage.objects.get(root=instance.storage.root_as_str)
    assert str(file.path()) == f"{instance.storage.root_as_str}/{file.id}.csv"
    assert not exists(file.path()) and File.objects.count() == 0  # nothing happens before save

    file.save()
    assert read(file.path()) == data
    assert File.objects.get(id=file.id).hash == md5_b64(data)
    assert source.exists()  # a copy, not a move


def test_file_with_key_is_found_by_key_and_lookup(instance, tmp_path):
    from lnschema_core.models import File

    file = File(write(tmp_path / "data.csv", "x"), key="raw/my data.csv", name="My data")
    file.save()
    assert str(file.path()) == f"{instance.storage.root_as_str}/raw/my data.csv"
    assert read(file.path()) == b"x"

    found = File.objects.filter(key="raw/my data.csv").one()
    assert found == file and found.name == "My data"
    assert File.lookup().my_data == file
    assert File.lookup("key").raw_my_data_csv == file
    assert str(found.path()) == str(file.path())


def test_file_inside_storage_is_registered_where_it_is(instance, capsys):
    from lnschema_core.models import File

    path = put_in_storage("experiments/run1/counts.tsv.gz", b"zipped")
    capsys.readouterr()
    file = File(path)
    assert "registering it at key 'experiments/run1/counts.tsv.gz', no copy" in (
        capsys.readouterr().out
    )
    assert file.key == "experiments/run1/counts.tsv.gz"
    assert file.suffix == ".tsv.gz"
    assert file.hash == md5_b64(b"zipped")  # on S3: from the ETag
    file.save()
    assert str(file.path()) == str(path)
    assert stored_objects(instance.storage.root) == ["experiments/run1/counts.tsv.gz"]
    assert File.objects.get(key="experiments/run1/counts.tsv.gz") == file

    # the same location given as a string, with its own key
    with pytest.raises(ValueError, match="in the storage already"):
        File(str(path), key="elsewhere.tsv.gz")
    # registered twice: the second save fails and leaves the first alone
    with pytest.raises(ValueError, match="is taken by"):
        File(str(path)).save()
    assert File.objects.count() == 1


@pytest.mark.parametrize(
    "name, suffix",
    [
        ("data.csv", ".csv"),
        ("archive.tar.gz", ".tar.gz"),
        ("reads.fastq.gz", ".fastq.gz"),
        ("table.v2.parquet", ".parquet"),
        ("backup.1.gz", ".gz"),
        ("README", ""),
        (".hidden", ""),
    ],
)
def test_suffix(local_instance, tmp_path, name, suffix):
    from lnschema_core.models import File

    file = File(write(tmp_path / name, "x"))
    assert file.suffix == suffix
    assert file.name == name
    file.save()
    assert file.path().name == f"{file.id}{suffix}"


def test_key_taken_or_object_present_leaves_storage_alone(instance, tmp_path):
    from lnschema_core.models import File

    File(write(tmp_path / "a.csv", "first"), key="shared.csv").save()
    second = File(write(tmp_path / "b.csv", "second"), key="shared.csv")
    with pytest.raises(ValueError, match="is taken by"):
        second.save()
    assert read(second.path()) == b"first"

    put_in_storage("unregistered.csv", b"precious")
    third = File(write(tmp_path / "c.csv", "third"), key="unregistered.csv")
    with pytest.raises(FileExistsError):
        third.save()
    assert read(third.path()) == b"precious"
    assert File.objects.count() == 1


def test_failed_copy_leaves_no_record(instance, tmp_path, monkeypatch):
    from lnschema_core import _paths
    from lnschema_core.models import File

    def broken_copy(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(_paths, "copy", broken_copy)
    file = File(write(tmp_path / "data.csv", "x"), key="data.csv")
    with pytest.raises(OSError, match="disk full"):
        file.save()
    assert File.objects.count() == 0
    assert not exists(file.path())

    monkeypatch.undo()
    file.save()  # a retry works
    assert File.objects.get(key="data.csv") == file


def test_failed_record_removes_the_copy(local_instance, tmp_path, monkeypatch):
    from django.db import models

    from lnschema_core.models import File

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database is gone")

    file = File(write(tmp_path / "data.csv", "x"))
    monkeypatch.setattr(models.Model, "save_base", broken_save)
    with pytest.raises(RuntimeError, match="database is gone"):
        file.save()
    monkeypatch.undo()
    assert not file.path().exists()
    assert File.objects.count() == 0


def test_path_is_a_upath_on_s3(user, bucket, tmp_path):
    from upath import UPath

    from lnschema_core.models import File

    ln_setup.init(storage=f"s3://{bucket}")
    file = File(write(tmp_path / "data.csv", "x"), key="a/b.csv")
    assert isinstance(file.path(), UPath)
    assert str(file.path()) == f"s3://{bucket}/a/b.csv"


def test_file_from_another_bucket_is_copied(user, s3, tmp_path):
    import boto3

    from lnschema_core.models import File

    client = boto3.client("s3", endpoint_url=s3)
    for name in ("lamin-test-source-bucket", "lamin-test-target-bucket"):
        client.create_bucket(Bucket=name)
    client.put_object(Bucket="lamin-test-source-bucket", Key="in/data.csv", Body=b"remote")
    ln_setup.init(storage="s3://lamin-test-target-bucket")

    file = File("s3://lamin-test-source-bucket/in/data.csv")
    assert (file.name, file.size, file.hash) == ("data.csv", 6, md5_b64(b"remote"))
    file.save()
    body = client.get_object(Bucket="lamin-test-target-bucket", Key=f"{file.id}.csv")["Body"]
    assert body.read() == b"remote"


def test_saves_reach_the_cloud_sqlite_file(user, bucket, tmp_path):
    from lnschema_core.models import File

    ln_setup.init(storage=f"s3://{bucket}")
    isettings = ln_setup.settings.instance
    File(write(tmp_path / "data.csv", "x"), key="data.csv").save()

    copy = tmp_path / "cloud.lndb"
    isettings._sqlite_file.download_to(copy)
    with sqlite3.connect(copy) as db:
        keys = [row[0] for row in db.execute("SELECT key FROM lnschema_core_file")]
    assert keys == ["data.csv"]


def test_replace_keeps_the_record_and_the_key_stem(instance, tmp_path, capsys):
    from lnschema_core.models import File

    file = File(write(tmp_path / "data.csv", "old"), key="raw/data.csv")
    file.save()
    old_path = file.path()

    file.replace(write(tmp_path / "new.parquet", "new content"))
    assert file.key == "raw/data.parquet"
    assert file.name == "data.parquet"
    assert "remove" in capsys.readouterr().out
    assert exists(old_path)  # nothing happens before save
    file.save()

    assert not exists(old_path)
    assert read(file.path()) == b"new content"
    again = File.objects.get(id=file.id)
    assert (again.key, again.suffix, again.size) == ("raw/data.parquet", ".parquet", 11)
    assert again.hash == md5_b64(b"new content")
    assert File.objects.count() == 1
    assert stored_objects(instance.storage.root) == ["raw/data.parquet"]


def test_replace_without_key_and_same_suffix(instance, tmp_path):
    from lnschema_core.models import File

    file = File(write(tmp_path / "a.txt", "one"), name="notes")
    file.save()
    file.replace(write(tmp_path / "b.txt", "two"))
    file.save()
    assert file.name == "notes"  # a name without the suffix stays
    assert read(file.path()) == b"two"
    assert stored_objects(instance.storage.root) == [f"{file.id}.txt"]

    file.replace(write(tmp_path / "c.json", "{}"))
    file.replace(write(tmp_path / "d.txt", "back"))  # twice before saving: back to .txt
    file.save()
    assert read(file.path()) == b"back"
    assert stored_objects(instance.storage.root) == [f"{file.id}.txt"]


def test_delete(instance, tmp_path):
    from lnschema_core.models import File

    kept = File(write(tmp_path / "a.csv", "a"), key="a.csv")
    kept.save()
    kept.delete()
    assert File.objects.count() == 0
    assert exists(kept.path())

    gone = File(write(tmp_path / "b.csv", "b"), key="b.csv")
    gone.save()
    path = gone.path()
    gone.delete(storage=True)
    assert not exists(path)
    assert stored_objects(instance.storage.root) == ["a.csv"]

    unsaved = File(put_in_storage("c.csv", b"c"))
    with pytest.raises(ValueError, match="not saved"):
        unsaved.delete(storage=True)  # would remove an object nobody registered
    assert stored_objects(instance.storage.root) == ["a.csv", "c.csv"]


def test_constructor_errors(local_instance, tmp_path):
    from lnschema_core.models import Features, File, Folder, Project, Run, Transform

    path = write(tmp_path / "data.csv", "x")
    with pytest.raises(ValueError, match="one positional argument"):
        File(path, "data.csv")
    with pytest.raises(ValueError, match="unknown keyword"):
        File(path, description="x")
    with pytest.raises(ValueError, match="got path twice"):
        File(path, path=path)
    with pytest.raises(ValueError, match="unknown keyword"):
        File(description="x")
    with pytest.raises(ValueError, match="keyword arguments"):
        Transform("my pipeline")
    with pytest.raises(ValueError, match="unknown keyword"):
        Run(pipeline="x")
    with pytest.raises(ValueError, match="not both"):
        Folder(tmp_path, files=[])
    with pytest.raises(ValueError, match="unknown keyword"):
        Features(["a"], type="gene", name="x")
    with pytest.raises(ValueError, match="add them"):
        Project(name="p", files=[])
    with pytest.raises(TypeError):
        File(42)
    with pytest.raises(FileNotFoundError):
        File(tmp_path / "missing.csv")
    with pytest.raises(IsADirectoryError, match="Folder"):
        File(tmp_path)
    for key in ["/abs.csv", "../up.csv", "a//b.csv", "", "a/./b"]:
        with pytest.raises(ValueError, match="Invalid key"):
            File(path, key=key)
    with pytest.raises(ValueError, match="Unsupported location"):
        File("https://example.com/data.csv")
    assert File.objects.count() == 0


def test_rows_load_through_djangos_constructor(local_instance, tmp_path):
    from lnschema_core.models import File, Storage

    file = File(write(tmp_path / "data.csv", "x"), key="data.csv")
    file.save()
    loaded = File.objects.get(key="data.csv")
    assert (loaded.id, loaded.hash, loaded.storage_id) == (file.id, file.hash, file.storage_id)
    assert loaded._source is None
    assert File.objects.only("id").get().id == file.id  # deferred fields
    file.refresh_from_db()
    assert list(File.objects.values_list("key", flat=True)) == ["data.csv"]
    # keyword construction of plain records still works
    plain = File.objects.create(name="b", suffix=".txt", storage=Storage.objects.get())
    assert plain.path().name == f"{plain.id}.txt"


# --- Folder --------------------------------------------------------------------------------


def make_tree(base: Path) -> Path:
    write(base / "samples.csv", "s")
    write(base / "raw" / "r1.fastq.gz", "r1")
    write(base / "raw" / "r2.fastq.gz", "r2")
    write(base / "raw" / "qc" / "report.html", "<p>")
    return base


def test_folder_outside_storage(instance, tmp_path, capsys):
    from lnschema_core.models import File, Folder

    folder = Folder(make_tree(tmp_path / "experiment"), key="projects/exp1")
    out = capsys.readouterr().out
    assert "will" in out and "its 4 files" in out and out.count("💡") == 1  # one hint
    assert folder.name == "experiment"
    assert File.objects.count() == 0 and Folder.objects.count() == 0

    folder.save()
    assert str(folder.path()) == f"{instance.storage.root_as_str}/projects/exp1"
    keys = sorted(folder.files.values_list("key", flat=True))
    assert keys == [
        "projects/exp1/raw/qc/report.html",
        "projects/exp1/raw/r1.fastq.gz",
        "projects/exp1/raw/r2.fastq.gz",
        "projects/exp1/samples.csv",
    ]
    assert stored_objects(instance.storage.root) == keys
    r1 = File.objects.get(key="projects/exp1/raw/r1.fastq.gz")
    assert read(r1.path()) == b"r1" and r1.suffix == ".fastq.gz"
    assert list(r1.folders.all()) == [folder]
    assert Folder.lookup().experiment == folder

    folder = Folder.objects.get(key="projects/exp1")
    folder.tree()
    assert capsys.readouterr().out.splitlines() == [
        "experiment/",
        "├── raw/",
        "│   ├── qc/",
        "│   │   └── report.html",
        "│   ├── r1.fastq.gz",
        "│   └── r2.fastq.gz",
        "└── samples.csv",
        "2 sub-folders, 4 files",
    ]
    folder.tree(level=1)
    assert capsys.readouterr().out.splitlines()[:3] == [
        "experiment/",
        "├── raw/",
        "└── samples.csv",
    ]
    folder.tree(limit=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:4] == ["├── raw/", "│   ├── qc/", "... only the first 2 entries are shown"]


def test_folder_default_key_is_its_name(local_instance, tmp_path):
    from lnschema_core.models import Folder

    folder = Folder(make_tree(tmp_path / "exp"))
    folder.save()
    assert folder.key == "exp"
    assert folder.path() == Path(local_instance.storage.root_as_str) / "exp"
    assert (folder.path() / "raw" / "qc" / "report.html").read_text() == "<p>"
    with pytest.raises(ValueError, match="registered already"):
        Folder(tmp_path / "exp")


def test_folder_inside_storage(instance):
    from lnschema_core.models import File, Folder

    for key in ["cells/a.h5ad", "cells/sub/b.h5ad", "other.txt"]:
        path = put_in_storage(key, key.encode())
    folder = Folder(str(path).rsplit("/", 1)[0] + "/cells")
    assert folder.key == "cells" and folder.name == "cells"
    folder.save()
    assert sorted(f.key for f in folder.files.all()) == ["cells/a.h5ad", "cells/sub/b.h5ad"]
    assert stored_objects(instance.storage.root) == [
        "cells/a.h5ad",
        "cells/sub/b.h5ad",
        "other.txt",
    ]
    assert File.objects.get(key="cells/sub/b.h5ad").hash == md5_b64(b"cells/sub/b.h5ad")


def test_folder_from_files_and_errors(local_instance, tmp_path):
    from lnschema_core.models import File, Folder

    saved = File(write(tmp_path / "a.csv", "a"), key="a.csv")
    saved.save()
    unsaved = File(write(tmp_path / "b.csv", "b"))
    folder = Folder(files=[saved, unsaved], name="selection")
    folder.save()
    assert folder.key is None
    assert set(folder.files.all()) == {saved, unsaved}
    assert unsaved.path().read_text() == "b"  # stored with the folder
    folder.tree()

    with pytest.raises(ValueError, match="needs a name"):
        Folder(files=[saved])
    with pytest.raises(ValueError, match="at least one"):
        Folder(files=[], name="x")
    with pytest.raises(TypeError):
        Folder(files=["a.csv"], name="x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No files"):
        Folder(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        Folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="storage root itself"):
        Folder(local_instance.storage.root_as_str)


def test_failed_folder_copy_leaves_nothing(instance, tmp_path, monkeypatch):
    from lnschema_core import _paths
    from lnschema_core.models import File, Folder

    folder = Folder(make_tree(tmp_path / "exp"))
    real_copy, calls = _paths.copy, []

    def copy_then_fail(source, destination):
        calls.append(destination)
        if len(calls) == 3:
            raise OSError("network down")
        real_copy(source, destination)

    monkeypatch.setattr(_paths, "copy", copy_then_fail)
    with pytest.raises(OSError, match="network down"):
        folder.save()
    assert File.objects.count() == 0 and Folder.objects.count() == 0
    assert stored_objects(instance.storage.root) == []


# --- Transform, Run, Features --------------------------------------------------------------


def test_transform_run_output_input(instance, tmp_path):
    from lnschema_core.models import File, Run, RunInput, Transform
    from lnschema_core.types import TransformType

    transform = Transform(name="preprocess", version=2, type=TransformType.pipeline)
    transform.save()
    assert (transform.version, transform.type) == ("2", "pipeline")
    run = Run(transform=transform, name="first run")
    run.save()

    output = File(write(tmp_path / "clean.csv", "clean"), run=run)
    assert output.transform == transform
    output.save()
    assert list(run.outputs.all()) == [output]
    assert list(transform.files.all()) == [output]

    analysis = Transform(name="analysis", type="notebook")
    analysis.save()
    next_run = Run(transform=analysis)
    next_run.save()
    next_run.inputs.add(output)
    assert list(next_run.inputs.all()) == [output]
    assert list(output.input_of.all()) == [next_run]
    assert RunInput.objects.get().run == next_run
    assert File.objects.filter(input_of__transform__name="analysis").one() == output
    assert File.objects.filter(run__transform=transform).one() == output

    with pytest.raises(ValueError, match="choose from pipeline, notebook, app"):
        Transform(name="x", type="script")


def test_features(instance, tmp_path):
    from lnschema_core.models import Features, File

    genes = Features(["CD8A", "CD4", "CD4"], type="gene")
    assert genes.id == Features(("CD4", "CD8A"), type="gene").id  # order and repeats ignored
    assert len(genes.id) <= 63 and genes.id.replace("-", "").replace("_", "").isalnum()
    assert Features(["CD4", "CD8A"], type="protein").id != genes.id
    assert Features(["CD4"], type="gene").id != genes.id
    assert Features(["CD4"], type=File).type == "lnschema_core.File"

    genes.save()
    file = File(write(tmp_path / "counts.csv", "x"))
    file.save()
    genes.files.add(file)
    assert list(file.features.all()) == [genes]

    again = Features(["CD4", "CD8A"], type="gene")
    again.save()  # the same set: becomes the stored record
    assert Features.objects.count() == 1
    assert list(again.files.all()) == [file]

    with pytest.raises(TypeError):
        Features("CD4", type="gene")
    with pytest.raises(ValueError, match="at least one"):
        Features([], type="gene")
    with pytest.raises(ValueError, match="type="):
        Features(["CD4"])


# --- lookup, QuerySet extras and reprs -----------------------------------------------------


def test_lookup_on_every_model(local_instance, tmp_path):
    from lnschema_core.models import (
        Features,
        File,
        Folder,
        Project,
        Run,
        RunInput,
        Storage,
        Transform,
        User,
    )

    transform = Transform(name="import")
    transform.save()
    run = Run(transform=transform, name="nightly")
    run.save()
    names = ["data.csv", "data csv", "2024 data.csv", "", "for"]
    files = []
    for index, name in enumerate(names):
        file = File(write(tmp_path / f"f{index}.csv", name or "x"), name=name or None)
        file.save()
        files.append(file)
    run.inputs.add(files[0])
    Features(["a"], type="gene").save()
    Project(name="Lamin Project").save()

    lookup = File.lookup()
    for field in lookup._fields:
        assert field.isidentifier() and not keyword.iskeyword(field)
    assert lookup.data_csv == files[0]
    assert lookup.data_csv_2 == files[1]  # a duplicate gets a number
    assert lookup.n2024_data_csv == files[2]
    assert lookup.f3_csv == files[3]  # no name given: the file name
    assert lookup.for_ == files[4]
    assert Transform.lookup().import_ == transform
    assert Run.lookup().nightly == run
    assert Project.lookup().lamin_project.name == "Lamin Project"
    assert len(Storage.lookup()) == 1  # no name: the first field after id (root)
    assert Features.lookup().gene.type == "gene"
    assert RunInput.lookup()[0].file == files[0]  # keyed by the run's id
    assert User.lookup("handle").testuser1.handle == "testuser1"
    assert Folder.lookup() == ()  # empty table


def test_queryset_extras(local_instance, tmp_path):
    from lnschema_core.models import File, MultipleResultsFound, NoResultFound

    for name in ["a.csv", "b.csv"]:
        File(write(tmp_path / name, name)).save()
    assert [f.name for f in File.objects.order_by("name").list()] == ["a.csv", "b.csv"]
    assert File.objects.order_by("name").first().name == "a.csv"
    assert File.objects.filter(name="a.csv").one().name == "a.csv"
    assert File.objects.filter(name="c.csv").one_or_none() is None
    with pytest.raises(NoResultFound):
        File.objects.filter(name="c.csv").one()
    with pytest.raises(MultipleResultsFound):
        File.objects.one_or_none()
    if importlib.util.find_spec("pandas") is None:
        with pytest.raises(ImportError, match="pip install pandas"):
            File.objects.df()
    else:
        frame = File.objects.df()
        assert sorted(frame["name"]) == ["a.csv", "b.csv"] and frame.index.name == "id"


def test_reprs_are_readable_and_hide_secrets(local_instance, tmp_path):
    from lnschema_core.models import File, Transform

    transform = Transform(name="etl", reference="postgresql://admin:hunter2@db.example.org/x")
    transform.save()
    text = repr(transform)
    assert "hunter2" not in text and "admin:***@db.example.org" in text
    assert "created_at=20" in text and "datetime.datetime" not in text

    file = File(write(tmp_path / "a.csv", "a"))
    assert repr(file).startswith(f"File(id='{file.id}', name='a.csv', suffix='.csv'")
    assert str(file) == repr(file)
