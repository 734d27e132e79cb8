"""Hostile and careless input at every command: a clean error (exit 2 with a hint) or the
right result, never an internal error (exit 1); and text from a file shown as text.

Each input is one a user or an attacker can hand gridcloud: a file someone sent, a value
pasted from a web page, a typo. The expected outcome of each is what a user should see,
worked out from the input (the bracketed pattern they typed, the escape they hid), not
read off the code's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridcloud.cli import create_cli
from tests.conftest import PROFILES, write_adc

runner = CliRunner()

SMALL = (PROFILES / "small.yaml").read_text()
ONPREM = (PROFILES / "onprem.yaml").read_text()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(create_cli(), list(args))
    return result.exit_code, result.stdout, result.stderr


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old  # the shipped profile still has the line this case changes
    return text.replace(old, new)


#: name -> profile text (str) or bytes; each is refused at validation.
HOSTILE: dict[str, str | bytes] = {
    "self-referencing anchor": "apiVersion: gridcloud.dev/v1alpha1\nname: x\nm: &m {a: *m}\n",
    "self-referencing list": "apiVersion: gridcloud.dev/v1alpha1\nm: &m [1, [2, *m]]\n",
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    ),
    "deep nesting": "a: " + "[" * 200 + "]" * 200 + "\n",
    "huge allocatable cpu": _replace(ONPREM, "cpu: 8", "cpu: 1e400000"),
    "huge allocatable memory": _replace(ONPREM, "memoryGb: 30", "memoryGb: 1e400000"),
    "5,000-digit integer": _replace(SMALL, "maxCores: 160", "maxCores: " + "9" * 5000),
    "NaN budget": _replace(SMALL, "monthly: 500", "monthly: .nan"),
    "infinite budget": _replace(SMALL, "monthly: 500", "monthly: .inf"),
    "infinite threshold": _replace(
        SMALL, "alertThresholds: [0.5, 1.0]", "alertThresholds: [1e999]"
    ),
    "empty client id": _replace(
        SMALL, "clientId: tryout-jupyterhub.apps.googleusercontent.com", "clientId: ''"
    ),
    "blank client id": _replace(
        SMALL, "clientId: tryout-jupyterhub.apps.googleusercontent.com", "clientId: '   '"
    ),
    "empty context": _replace(ONPREM, "context: campus-af", "context: ''"),
    "blank context": _replace(ONPREM, "context: campus-af", "context: '  '"),
    "empty kubeconfig": _replace(ONPREM, "kubeconfig: ~/.kube/config", "kubeconfig: ''"),
    "http issuer with brackets": _replace(
        SMALL, "issuer: https://accounts.google.com", "issuer: http://[a-z]/path"
    ),
    "a NUL byte": "apiVersion: gridcloud.dev/v1alpha1\nname: \x00\n",
    "not UTF-8": b"apiVersion: gridcloud.dev/v1alpha1\nname: caf\xe9\n",
    "empty file": "",
    "a list": "- a\n- b\n",
    "null pools": _replace(SMALL, "pools:\n", "pools: ~\nunused:\n"),
    "a date for a name": _replace(SMALL, "name: tryout", "name: 2026-01-01"),
}


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "hostile.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [("validate",), ("plan",), ("plan", "--json"), ("cost", "estimate"), ("check", "--quiet")],
)
@pytest.mark.parametrize("case", sorted(HOSTILE), ids=str)
def test_every_command_refuses_hostile_profiles_cleanly(
    tmp_path: Path, case: str, command: tuple[str, ...]
) -> None:
    path = _write(tmp_path, HOSTILE[case])
    code, _, err = run(*command, str(path))
    assert code == 2, err
    assert err.startswith("Error:") and "Hint:" in err
    assert "internal error" not in err and "Traceback" not in err


def test_an_http_issuer_is_refused_with_its_text_intact(tmp_path: Path) -> None:
    path = _write(tmp_path, HOSTILE["http issuer with brackets"])
    code, _, err = run("validate", str(path))
    assert code == 2
    assert "'http://[a-z]/path' is not an https URL" in err


def test_a_pattern_in_an_error_keeps_its_brackets(tmp_path: Path) -> None:
    # a capital letter in the name: the rule shown is the one the name must match, whole
    path = _write(tmp_path, _replace(SMALL, "name: tryout", "name: Atlas-GCP"))
    code, _, err = run("validate", str(path))
    assert code == 2
    assert "^[a-z]([-a-z0-9]{0,18}[a-z0-9])?$" in err


def test_markup_and_terminal_controls_in_an_error_are_shown_not_obeyed(tmp_path: Path) -> None:
    # YAML's escapes for ESC and U+202E: "\x1b[2J" clears a terminal, U+202E turns the
    # rest of the line around
    tag = r"gcp[/x][bold]\e[2J\u202e"
    path = _write(tmp_path, _replace(SMALL, "provider: gcp", f'provider: "{tag}"'))
    code, _, err = run("validate", str(path))
    assert code == 2
    assert "\x1b" not in err and "\u202e" not in err
    assert r"'gcp[/x][bold]\x1b[2J\u202e' is not one of" in err


def test_a_description_with_markup_and_controls_is_printed_as_written(tmp_path: Path) -> None:
    text = r"\e[2J[bold]Atlas[/bold] :warning: \u202e[/path] \0"
    path = _write(
        tmp_path,
        _replace(
            SMALL,
            "description: Small facility for trying things out",
            f'description: "{text}"',
        ),
    )
    code, out, err = run("plan", str(path))
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out and "\x00" not in out
    assert r"\x1b[2J[bold]Atlas[/bold] :warning: \u202e[/path] \x00" in out


def test_check_with_credentials_that_are_a_folder_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path))
    code, out, err = run("check", str(PROFILES / "small.yaml"), "--quiet")
    assert code == 9, err
    assert "the credentials file cannot be read" in out
    assert "internal error" not in err


def test_check_with_credentials_that_are_not_json_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "adc.json"
    bad.write_bytes(b"\xff\xfe not json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(bad))
    code, out, err = run("check", str(PROFILES / "small.yaml"), "--quiet")
    assert code == 9, err
    assert "credentials" in out and "internal error" not in err


def test_check_with_a_kubeconfig_that_is_not_utf8_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_bytes(
        b"apiVersion: v1\nclusters: []\ncontexts:\n- name: campus-af\n"
        b"  context: {cluster: c\xff\xfe, user: u}\n"
    )
    profile = _write(
        tmp_path, _replace(ONPREM, "kubeconfig: ~/.kube/config", f"kubeconfig: {kubeconfig}")
    )
    write_adc(tmp_path / "adc.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "adc.json"))
    code, out, err = run("check", str(profile), "--quiet")
    assert code == 9, err
    assert "cannot use context campus-af" in out
    assert "internal error" not in err


def test_render_onto_a_file_is_refused_before_rendering(tmp_path: Path) -> None:
    target = tmp_path / "manifests"
    target.write_text("keep me")
    code, _, err = run("render", str(PROFILES / "small.yaml"), "--out", str(target))
    assert code == 2
    assert "is a file" in err and "Hint:" in err
    assert target.read_text() == "keep me"


def test_a_context_name_with_markup_and_controls_is_printed_as_written(tmp_path: Path) -> None:
    # any text names a kubeconfig context; plan shows it in a plain table cell
    path = _write(
        tmp_path, _replace(ONPREM, "context: campus-af", r'context: "[red]af[/red]\e]0;x\a"')
    )
    code, out, err = run("plan", str(path))
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert r"context [red]af[/red]\x1b]0;x\x07" in out
