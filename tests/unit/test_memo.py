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

import pytest
from pydantic import BaseModel

from gridcloud import memo
from gridcloud.catalog.model import PACKAGED_DATA, read_catalog
from gridcloud.errors import ProfileError
from gridcloud.profile import parse_profile
from gridcloud.profile.models import Profile
from tests.conftest import ROOT

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
    """The stamp is gridcloud's files' sizes and times: a module touched is another stamp."""
    package = tmp_path / "gridcloud"
    (package / "profile").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    model = package / "profile" / "models.py"
    model.write_text("X = 1\n", encoding="utf-8")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import gridcloud\n"
        f"sys.path.insert(0, {str(ROOT)!r}); import importlib.util\n"
        "spec = importlib.util.spec_from_file_location('m', "
        f"{str(ROOT / 'gridcloud' / 'memo.py')!r}); m = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(m); print(m._code_stamp().hex())\n"
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
    assert stamp() == before
    model.write_text("X = 2\n", encoding="utf-8")  # same size, later time
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    assert stamp() != before


def test_a_damaged_entry_is_a_miss_and_validated_again(cache: Path) -> None:
    first = parse_profile(DEFAULT, "default.yaml")
    (kept,) = (cache / "memo" / "profile").iterdir()
    for damaged in (
        b"not marshal data",
        marshal.dumps(["a list, not a profile"]),
        marshal.dumps(("model", "os:system", {}, ())),  # no profile model: never looked up
        marshal.dumps(("model", "gridcloud.profile.models:Pool", {}, ())),  # not a Profile
        marshal.dumps(("no such tag",)),
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


def test_every_shipped_and_corpus_profile_reads_back_as_validated(cache: Path) -> None:
    """The kept form holds every value a profile has (networks, Decimals, lists, nested
    models and the fields the text set): read back, each profile equals the validated one,
    field for field and in which fields were given."""
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
        assert again == first, path.name
        assert again.model_dump() == first.model_dump(), path.name
        assert again.model_dump(exclude_unset=True) == first.model_dump(exclude_unset=True)
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
        kept.write_bytes(marshal.dumps(("header", "not rows")))
    assert read_catalog(copy).zone_region == first.zone_region


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
    env = {**os.environ, "GRIDCLOUD_CACHE_DIR": str(cache)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.split()
        for _ in range(2)
    ]
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
