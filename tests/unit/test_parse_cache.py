"""A chart file's parsed YAML kept in gridcloud's cache: read back while the file is the
same, parsed again once its bytes change; a document marshal cannot hold is never kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from gridcloud.catalog import charts


def parse(path: Path) -> object:
    return charts._yaml.__wrapped__(path)  # past the per-process cache: the disk's only


def test_a_parsed_file_is_read_back_until_its_bytes_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    values = tmp_path / "values.yaml"
    values.write_text("hub:\n  replicas: 1\n  image: {name: hub, tag: '4.4'}\n", encoding="utf-8")
    assert parse(values) == {"hub": {"replicas": 1, "image": {"name": "hub", "tag": "4.4"}}}
    assert len(list((tmp_path / "cache" / "parsed").iterdir())) == 1

    def no_parser(*_: object, **__: object) -> object:
        raise AssertionError("parsed again")

    monkeypatch.setattr(yaml, "load", no_parser)
    assert parse(values) == {"hub": {"replicas": 1, "image": {"name": "hub", "tag": "4.4"}}}
    monkeypatch.undo()
    monkeypatch.setenv("GRIDCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    values.write_text("hub:\n  replicas: 2\n", encoding="utf-8")  # changed: parsed anew
    assert parse(values) == {"hub": {"replicas": 2}}


def test_a_damaged_cache_file_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    values = tmp_path / "values.yaml"
    values.write_text("a: [1, 2]\n", encoding="utf-8")
    parse(values)
    (kept,) = (tmp_path / "cache" / "parsed").iterdir()
    kept.write_bytes(b"\x00not marshal")
    assert parse(values) == {"a": [1, 2]}


def test_a_document_marshal_cannot_hold_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    values = tmp_path / "values.yaml"
    values.write_text("released: 2026-08-20\n", encoding="utf-8")
    assert parse(values) == {"released": dt.date(2026, 8, 20)}
    assert not (tmp_path / "cache" / "parsed").exists()
