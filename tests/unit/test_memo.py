"""A valid profile's models and the catalog's parsed files are kept by content
(gridcloud/memo.py): read back while the text, the files and gridcloud's code are the same,
computed again when any of them changes; a damaged or foreign entry is a miss; what only the
catalog or a caller can judge is judged on every read; an entry is plain data (marshal),
never code."""

from __future__ import annotations

import marshal
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from gridcloud import memo
from gridcloud.catalog import model as catalog_model
from gridcloud.catalog.model import PACKAGED_DATA, read_catalog
from gridcloud.errors import ProfileError
from gridcloud.profile import parse_profile
from gridcloud.profile.models import Profile
from tests.conftest import ROOT, fresh_runs

DEFAULT = (ROOT / "profiles" / "default.yaml").read_text(encoding="utf-8")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDCLOUD_CACHE_DIR", str(tmp_path))
    return tmp_path


def no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> object:
        raise AssertionError("validated again")

    monkeypatch.setattr(Profile, "model_validate", refuse)


def test_a_valid_profile_is_read_back_equal_and_unvalidated(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = parse_profile(DEFAULT, "default.yaml")
    (kept,) = (cache / "memo" / "profile").iterdir()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # its owner's only
    with monkeypatch.context() as m:
        no_validation(m)
        again = parse_profile(DEFAULT, "default.yaml")
    assert again == first
    assert again is not first  # from the disk, not a copy in memory
    # an edited text is a new key: validated (here the validator refuses to run)
    with monkeypatch.context() as m:
        no_validation(m)
        with pytest.raises(AssertionError, match="validated again"):
            parse_profile(DEFAULT.replace("atlas-gcp", "atlas-gcp2"), "default.yaml")


def test_a_change_to_gridclouds_code_is_a_new_key(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse_profile(DEFAULT, "default.yaml")
    monkeypatch.setattr(memo, "_STAMP", [b"another gridcloud"])
    no_validation(monkeypatch)
    with pytest.raises(AssertionError, match="validated again"):
        parse_profile(DEFAULT, "default.yaml")


def test_the_code_stamp_sees_an_edited_module(tmp_path: Path) -> None:
    """The stamp is gridcloud's files' sizes and times: a module touched is another stamp,
    also beside an entry that cannot be read (an editor's lock, a dangling link, sorts
    first); a package whose files cannot be listed has no stamp (nothing is kept)."""
    package = tmp_path / "gridcloud"
    (package / "profile").mkdir(parents=True)
    (package / "__init__.py").write_text("__version__ = '0'\n", encoding="utf-8")
    model = package / "profile" / "models.py"
    model.write_text("X = 1\n", encoding="utf-8")
    (package / "profile" / ".#models.py").symlink_to("user@host.1234:1700000000")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import gridcloud\n"
        "import importlib.util\n"
        "spec = importlib.util.spec_from_file_location('m', "
        f"{str(ROOT / 'gridcloud' / 'memo.py')!r}); m = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(m); s = m._code_stamp(); print(s.hex() if s else None)\n"
    )

    def stamp() -> str:
        return subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()

    before = stamp()
    assert before != "None"
    assert stamp() == before
    model.write_text("X = 2\n", encoding="utf-8")  # same size, later time
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    assert stamp() != before
    for item in [*package.rglob("*")][::-1]:
        item.unlink() if not item.is_dir() or item.is_symlink() else item.rmdir()
    (package / "__init__.py").write_text("__version__ = '0'\n", encoding="utf-8")
    (package / "__init__.py").chmod(0o644)
    package.chmod(0o300)  # the folder cannot be listed
    try:
        if os.access(package, os.R_OK):  # root reads any folder: nothing to prove here
            return
        assert stamp() == "None"
    finally:
        package.chmod(0o755)


def test_the_yaml_parser_is_part_of_a_profiles_key(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse_profile(DEFAULT, "default.yaml")
    monkeypatch.setattr(memo, "module_stamp", lambda name: f"another {name}")
    no_validation(monkeypatch)
    with pytest.raises(AssertionError, match="validated again"):
        parse_profile(DEFAULT, "default.yaml")


def nested(depth: int) -> bytes:
    """A kept entry of lists inside lists, ``depth`` deep."""
    value: Any = 1
    for _ in range(depth):
        value = ("list", [value])
    return marshal.dumps(value)


def test_a_damaged_entry_is_a_miss_and_validated_again(cache: Path) -> None:
    first = parse_profile(DEFAULT, "default.yaml")
    (kept,) = (cache / "memo" / "profile").iterdir()
    for damaged in (
        b"not marshal data",
        marshal.dumps(["a list, not a profile"]),
        marshal.dumps(("model", "os:system", {}, ())),  # no profile model: never looked up
        marshal.dumps(("model", "gridcloud.profile.models:Pool", {}, ())),  # not a Profile
        marshal.dumps(("no such tag",)),
        marshal.dumps(("model", "gridcloud.profile.models:Profile", {"name": b"bytes"}, ())),
        marshal.dumps(("model", "gridcloud.profile.models:Profile", {"name": {1, 2}}, ())),
        nested(900),  # deeper than Python's recursion: a miss, not a crash
    ):
        kept.write_bytes(damaged)
        assert parse_profile(DEFAULT, "default.yaml") == first


def test_a_planted_pickle_is_never_unpickled(cache: Path) -> None:
    """An entry is read with marshal, which builds plain values only: a pickle that would
    run code when unpickled is a damaged entry, validated again, its code never run."""
    parse_profile(DEFAULT, "default.yaml")
    (kept,) = (cache / "memo" / "profile").iterdir()
    ran = cache / "ran"

    class Planted:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(ran),))

    kept.write_bytes(pickle.dumps(Planted()))
    assert parse_profile(DEFAULT, "default.yaml").name == "atlas-gcp"
    assert not ran.exists()


def signature(value: object) -> object:
    """A value with every type in it, and each model's fields set: equal only when the two
    are the same in kind too (``1 == 1.0 == True`` and ``Decimal(1) == 1`` are not)."""
    if isinstance(value, BaseModel):
        fields = {name: signature(getattr(value, name)) for name in type(value).model_fields}
        return (type(value), fields, frozenset(value.model_fields_set))
    if isinstance(value, (list, tuple)):
        return (type(value), [signature(v) for v in value])
    if isinstance(value, dict):
        return (type(value), {k: signature(v) for k, v in value.items()})
    return (type(value), value)


def test_every_shipped_and_corpus_profile_reads_back_as_validated(cache: Path) -> None:
    """The kept form holds every value a profile has (networks, Decimals, lists, nested
    models and the fields the text set): read back, each profile is the validated one,
    value for value, type for type, and in which fields were given."""
    paths = [
        *sorted((ROOT / "profiles").glob("*.yaml")),
        *sorted((ROOT / "tests" / "corpus").glob("*.yaml")),
    ]
    read = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        try:
            first = parse_profile(text, path.name)
        except ProfileError:
            continue  # a corpus profile refused by the catalog checks
        again = parse_profile(text, path.name)
        assert signature(again) == signature(first), path.name
        read += 1
    assert read >= 8
    assert len(list((cache / "memo" / "profile").iterdir())) >= read


def test_an_invalid_profile_is_never_kept(cache: Path) -> None:
    bad = DEFAULT.replace("machineType:", "machineTyp:", 1)
    for _ in range(2):
        with pytest.raises(ProfileError):
            parse_profile(bad, "bad.yaml")
    assert not (cache / "memo" / "profile").exists()


def test_catalog_and_callers_checks_run_on_a_profile_read_back(cache: Path) -> None:
    """A machine type the catalog does not offer is the catalog's judgement, made on every
    read: the same problem, file and line, whether the models were validated or read back."""
    unknown = DEFAULT.replace("n2d-highcpu-80", "n2d-highcpu-81", 1)
    messages = []
    for _ in range(2):
        with pytest.raises(ProfileError) as refused:
            parse_profile(unknown, "p.yaml")
        messages.append(refused.value.problems)
    assert messages[0] == messages[1]
    assert any("n2d-highcpu-81" in p for p in messages[0])
    assert len(list((cache / "memo" / "profile").iterdir())) == 1  # the models were valid

    seen: list[str] = []

    def check(profile: Profile) -> list:  # type: ignore[type-arg]
        seen.append(profile.name)
        return []

    for _ in range(2):
        parse_profile(DEFAULT, "default.yaml", checks=[check])
    assert seen == ["atlas-gcp", "atlas-gcp"]


def test_the_catalogs_files_are_read_back_until_one_changes(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    import shutil

    copy = tmp_path / "catalog"
    shutil.copytree(PACKAGED_DATA, copy)
    first = read_catalog(copy)
    assert len(list((cache / "memo" / "catalog-rows").iterdir())) == 3  # types, GPUs, zones

    def no_parser(*_: object, **__: object) -> object:
        raise AssertionError("parsed again")

    with monkeypatch.context() as m:
        m.setattr(csv, "reader", no_parser)
        again = read_catalog(copy)
    assert again.machine_types == first.machine_types
    assert again.accelerators == first.accelerators
    assert again.zone_region == first.zone_region
    # a refreshed file (here: one machine type fewer) is read anew
    rows = (copy / "machine_types.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    gone = next(r for r in rows[1:] if r.startswith("n2d-highcpu-80,"))
    (copy / "machine_types.csv").write_text("".join(r for r in rows if r != gone), "utf-8")
    assert "n2d-highcpu-80" not in read_catalog(copy).machine_types
    assert "n2d-highcpu-80" in first.machine_types
    # a damaged entry: the file is parsed again
    for kept in (cache / "memo" / "catalog-rows").iterdir():
        kept.write_bytes(marshal.dumps((("zone", "region"), "not rows")))
    assert read_catalog(copy).zone_region == first.zone_region


@pytest.mark.parametrize(
    "text",
    [
        "a,b,c\n1,2,3\n",
        "a,b,c\n1,2\n4,5,6\n",  # a short row (a catalog written before a column)
        "a,b,c\n1,2,3,4,5\n",  # a long row
        "a,b,c\n\n1,2,3\n\n",  # blank lines
        "\na,b\n1,2\n",  # a blank first line: DictReader's header is empty
        'a,b\n"x, y","line\nbreak"\n',  # quoting
        "a,b\n",  # a header only
        "",  # empty
    ],
)
def test_catalog_rows_are_what_dictreader_reads_first_time_and_read_back(
    cache: Path, tmp_path: Path, text: str
) -> None:
    import csv

    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8", newline="")
    with path.open(newline="", encoding="utf-8") as f:
        expected = list(csv.DictReader(f))
    assert catalog_model._rows(path) == expected  # parsed
    assert catalog_model._rows(path) == expected  # read back


def test_models_read_back_need_no_validator(cache: Path) -> None:
    """Read back, a profile is used without pydantic's validator ever being built (the point
    of keeping it): in a fresh process the second read leaves Profile's build deferred."""
    script = (
        "from gridcloud.profile import parse_profile\n"
        "from gridcloud.profile.models import Profile\n"
        "import sys\n"
        f"p = parse_profile(open({str(ROOT / 'profiles' / 'default.yaml')!r}).read(), 'd')\n"
        "print(Profile.__pydantic_complete__, 'yaml' in sys.modules, p.name)\n"
    )
    runs = [out.split() for out in fresh_runs(script, cache)]
    assert runs[0] == ["True", "True", "atlas-gcp"]  # validated: built, YAML parsed
    assert runs[1] == ["False", "False", "atlas-gcp"]  # read back: neither


def test_is_default_agrees_with_comparing_to_a_new_model() -> None:
    """``Model.is_default`` answers what ``model == type(model)()`` does, without building
    a validator: compared on the data section, set nowhere, set to its defaults, and changed
    at one nested field."""
    from gridcloud.profile.data import Data

    samples = [
        {},
        {"bucket": {"enabled": False}},
        {"bucket": {"enabled": True}},
        {"monthly": {"egress": {"internet": {"worldwideGib": 0}}}},
        {"monthly": {"egress": {"internet": {"worldwideGib": 5}}}},
        {"bucket": {"lifecycle": []}},
        {"xcache": {"enabled": False}},
    ]
    for sample in samples:
        data = Data.model_validate(sample)
        assert data.is_default() == (data == Data()), sample
    assert isinstance(Data(), BaseModel)


def test_entries_past_the_limit_go_oldest_first(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo, "KEEP_AT_MOST", 3)
    for number in range(5):
        memo.keep("test", (str(number),), number)
        kept = memo.entry("test", str(number))
        assert kept is not None
        os.utime(kept, (1_000_000 + number, 1_000_000 + number))  # in order of writing
    assert [memo.recall("test", (str(n),)) for n in range(5)] == [None, None, 2, 3, 4]
    left = sorted(p.name for p in (cache / "memo" / "test").iterdir())
    assert len(left) == 3
    assert not [name for name in left if name.startswith(".")]  # no partial file left


def test_the_memo_can_be_turned_off(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDCLOUD_MEMO", "off")
    parse_profile(DEFAULT, "default.yaml")
    assert not (cache / "memo").exists()
    no_validation(monkeypatch)
    with pytest.raises(AssertionError, match="validated again"):
        parse_profile(DEFAULT, "default.yaml")
