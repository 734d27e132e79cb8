"""The one lenient reader of a profile (a stack's name for destroy/status/refresh, a
report's scope, the budget's account): it reads a profile that no longer validates, and
refuses what the strict loader refuses as not a profile, with the same guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcloud.analysis import stack_name
from gridcloud.errors import InputError
from gridcloud.profile.loader import read_fields


def test_a_profile_that_no_longer_validates_still_names_its_stack(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(
        "apiVersion: gridcloud.dev/v1alpha0\nname: atlas-gcp\nsomethingRemoved: 3\n",
        encoding="utf-8",
    )
    assert stack_name(str(old)) == "atlas-gcp"


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a]\n",  # an alias inside its own anchor
        "- 1\n- 2\n",  # a list, not a mapping
        "name: [unclosed\n",  # not YAML
        "x: " + "[" * 40 + "]" * 40 + "\n",  # deeper than a profile nests
    ],
)
def test_what_is_not_a_profile_is_refused_with_the_way_to_name_the_stack(
    tmp_path: Path, text: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    assert read_fields(bad) is None
    with pytest.raises(InputError) as caught:
        stack_name(str(bad))
    assert "--stack NAME" in (caught.value.hint or "")


def test_a_file_far_larger_than_a_profile_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "# padding\n" * 500_000, encoding="utf-8")  # ~5 MB
    assert read_fields(big) is None


def test_a_profile_without_a_name_says_so(tmp_path: Path) -> None:
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("apiVersion: gridcloud.dev/v1alpha1\n", encoding="utf-8")
    with pytest.raises(InputError, match="has no facility name"):
        stack_name(str(nameless))
