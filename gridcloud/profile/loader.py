"""Load a profile from YAML with errors that name the file, the line and the field.

Structure and types are checked by the pydantic models; facts about Google Cloud (machine
types, zones, accelerators) by :func:`gridcloud.profile.checks.check_profile` against the
catalog. Both kinds of finding are reported the same way, all at once::

    profiles/x.yaml:14: pools[0].machineTyp: unknown field; did you mean 'machineType'?
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from gridcloud.errors import InputError, ProfileError
from gridcloud.profile import memo
from gridcloud.profile.models import Profile
from gridcloud.profile.versions import version_problem

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import yaml

    from gridcloud.catalog import Catalog

Loc = tuple[str | int, ...]


def _loader() -> type[yaml.SafeLoader]:
    """libyaml's loader where PyYAML has it (the same YAML 1.1 rules and marks, ten times
    faster). PyYAML is imported here, when a profile is parsed: a profile read back from
    gridcloud's cache (memo.py) needs none of it (its import alone is ~25 ms)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One finding about a profile: where (a field path), what, and close alternatives."""

    loc: Loc
    message: str
    suggestions: tuple[str, ...] = field(default=())


_LOOKALIKES = str.maketrans("OoIl", "0011")


def suggest(word: str, candidates: typing.Iterable[str], n: int = 1) -> tuple[str, ...]:
    """Close matches for ``word`` among ``candidates`` (a typo's likely intent).

    A letter typed for a look-alike digit (``8O`` for ``80``) or a wrong case is the likeliest
    intent, so such a match comes before any merely similar name.
    """
    pool = list(candidates)
    by_shape = {c.lower().translate(_LOOKALIKES): c for c in pool}
    exact = by_shape.get(word.lower().translate(_LOOKALIKES))
    if exact is not None and exact != word:
        return (exact,)
    return tuple(difflib.get_close_matches(word, pool, n=n, cutoff=0.6))


def format_path(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class _Lines:
    """Line numbers of every key and value of a YAML document, by field path."""

    def __init__(self, root: yaml.Node) -> None:
        self.lines: dict[Loc, int] = {}
        self.duplicates: list[tuple[Loc, int]] = []
        self._walk(root, ())

    def _walk(self, node: yaml.Node, loc: Loc) -> None:
        import yaml

        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    self.duplicates.append(((*loc, name), key.start_mark.line + 1))
                seen.add(name)
                self.lines[(*loc, name)] = key.start_mark.line + 1
                self._walk(value, (*loc, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*loc, index))

    def locate(self, loc: Loc) -> tuple[Loc, int]:
        """The deepest existing part of ``loc`` and its line; parts not in the file
        (a union's tag, a missing field) are passed over."""
        found: Loc = ()
        for part in loc:
            if (*found, part) in self.lines:
                found = (*found, part)
        return found, self.lines.get(found, 1)


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation can hold (through Optional, list, Annotated, unions)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _tags(model: type[BaseModel]) -> tuple[Any, ...]:
    info = model.model_fields.get("provider")
    return typing.get_args(info.annotation) if info is not None else ()


def _models_at(loc: Loc) -> list[type[BaseModel]]:
    """The models that can stand at ``loc`` (several inside a union until its tag is seen)."""
    models: list[type[BaseModel]] = [Profile]
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for model in models:
            for name, info in model.model_fields.items():
                if part in (name, info.alias):
                    nxt.extend(_unwrap(info.annotation))
        if not nxt:  # a discriminated union's tag: keep the member it names
            nxt = [m for m in models if part in _tags(m)]
        models = nxt
    return models


def _field_names_at(loc: Loc) -> list[str]:
    """The YAML field names allowed in the mapping at ``loc`` (for 'did you mean')."""
    return sorted(
        {info.alias or name for m in _models_at(loc) for name, info in m.model_fields.items()}
    )


def _without_tags(loc: Loc) -> Loc:
    """``loc`` less the union tags pydantic puts in it (``target.gcp.project``)."""
    kept: list[str | int] = []
    for i, part in enumerate(loc):
        if (
            isinstance(part, str)
            and part not in _field_names_at(loc[:i])
            and any(part in _tags(m) for m in _models_at(loc[:i]))
        ):
            continue
        kept.append(part)
    return tuple(kept)


def _problem_from_pydantic(error: Any) -> Problem:
    loc: Loc = _without_tags(tuple(error["loc"]))
    kind = error["type"]
    if kind == "union_tag_invalid":
        ctx = error["ctx"]
        field_name = str(ctx["discriminator"]).strip("'")
        options = re.findall(r"'([^']*)'", str(ctx["expected_tags"]))
        return Problem(
            (*loc, field_name),
            f"'{ctx['tag']}' is not one of {ctx['expected_tags']}",
            suggest(str(ctx["tag"]), options),
        )
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return Problem(loc, f"unknown field '{key}'", suggest(key, _field_names_at(loc[:-1])))
    if kind == "missing":
        return Problem(loc, f"required field '{loc[-1]}' is missing")
    if kind == "literal_error":
        expected = str(error["ctx"]["expected"])
        options = re.findall(r"'([^']*)'", expected)
        given = str(error.get("input", ""))
        return Problem(loc, f"'{given}' is not one of {expected}", suggest(given, options))
    if kind == "string_pattern_mismatch":
        if not _PATTERNS:
            _PATTERNS.update(_pattern_descriptions())
        described = _PATTERNS.get(str(error["ctx"]["pattern"]))
        if described is not None:
            return Problem(loc, f"'{error.get('input', '')}' is not {described}")
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    return Problem(loc, message[0].lower() + message[1:] if message else message)


def _pattern_descriptions() -> dict[str, str]:
    """Each constrained string's pattern -> what it asks for, from the models' Field
    descriptions (so an error says "a DNS name", not the regular expression)."""
    from gridcloud.profile import models

    found: dict[str, str] = {}
    for name in ("DnsName", "ObjectName", "ImageRef", "HttpsUrl"):
        for meta in typing.get_args(getattr(models, name))[1:]:
            pattern = getattr(meta, "pattern", None)
            for item in getattr(meta, "metadata", []):
                pattern = getattr(item, "pattern", pattern)
            if pattern and meta.description:
                found[pattern] = meta.description
    return found


def _render(source: str, lines: _Lines, problems: list[Problem]) -> list[str]:
    rendered = []
    for problem in problems:
        _, line = lines.locate(problem.loc)
        text = f"{source}:{line}: {format_path(problem.loc)}: {problem.message}"
        if problem.suggestions:
            text += "; did you mean " + " or ".join(f"'{s}'" for s in problem.suggestions) + "?"
        rendered.append(text)
    return rendered


_PATTERNS: dict[str, str] = {}

#: A profile is a page of YAML: far larger is a mistake or an attack, refused unread.
MAX_BYTES = 1024 * 1024
#: Deeper nesting than any profile has (the parser would otherwise recurse without end).
MAX_DEPTH = 32
#: Values once aliases are expanded ("billion laughs": a few lines, billions of values).
MAX_VALUES = 100_000


def _shape_problem(text: str) -> str | None:
    """Why the YAML cannot be a profile before it is built: too deep, or its aliases
    expand too far. Reads the parser's events, without recursion and without expanding."""
    import yaml

    depth = 0
    sizes: dict[str, int] = {}
    open_: list[tuple[int, str | None]] = [(0, None)]
    for event in yaml.parse(text, Loader=_loader()):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return f"it nests deeper than {MAX_DEPTH} levels"
            open_.append((0, event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            count, anchor = open_.pop()
            if anchor is not None:
                sizes[anchor] = count + 1
            open_[-1] = (open_[-1][0] + count + 1, open_[-1][1])
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            open_[-1] = (open_[-1][0] + 1, open_[-1][1])
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for _, anchor in open_):
                return f"the alias *{event.anchor} refers to its own anchor (a value inside itself)"
            open_[-1] = (open_[-1][0] + sizes.get(str(event.anchor), 1), open_[-1][1])
        if open_[-1][0] > MAX_VALUES or any(count > MAX_VALUES for count, _ in open_):
            return f"its aliases expand to more than {MAX_VALUES:,} values"
    return None


def _structure(text: str, source: str) -> tuple[_Lines, Profile | None, list[Problem]]:
    """Parse the YAML and validate it against the models: the lines of every field, the
    profile (None when the models refuse it) and the problems found; raises ProfileError for
    text that cannot be a profile at all (bad YAML, wrong shape, unknown apiVersion)."""
    import yaml

    try:
        shape = _shape_problem(text)
        if shape is not None:
            raise ProfileError(
                f"{source} is not a profile",
                [f"{source}: {shape}"],
                hint="a profile is a few levels of fields; YAML anchors and aliases are "
                "allowed for small repeats",
            )
        root = yaml.compose(text, Loader=_loader())
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(
            f"{source} is not valid YAML",
            [f"{where}: {problem}"],
            hint="check indentation and quoting around the line named",
        ) from exc
    except ValueError as exc:  # a scalar YAML resolves but Python cannot hold (a 5,000-digit int)
        raise ProfileError(
            f"{source} is not a profile",
            [f"{source}: a value cannot be read: {str(exc).split(';')[0]}"],
            hint="numbers in a profile are a few digits long; quote text that looks like one",
        ) from exc
    if root is None or data is None:
        raise ProfileError(
            f"{source} is empty",
            [f"{source}:1: a profile is a mapping with apiVersion, name, target, ..."],
            hint="start from a shipped profile: gridcloud validate profiles/small.yaml",
        )
    if not isinstance(data, dict):
        raise ProfileError(
            f"{source} is not a profile",
            [f"{source}:1: expected a mapping of fields, found a {type(data).__name__}"],
            hint="a profile is a YAML mapping: apiVersion: ..., name: ..., target: ...",
        )
    lines = _Lines(root)
    refused = version_problem(data.get("apiVersion"))
    if refused is not None:
        problem, hint = refused
        _, line = lines.locate(("apiVersion",))
        raise ProfileError(
            f"{source} is not a profile this gridcloud reads",
            [f"{source}:{line}: apiVersion: {problem}"],
            hint=hint,
        )
    problems = [Problem(loc, "is given more than once") for loc, _ in lines.duplicates]
    profile: Profile | None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        problems += [_problem_from_pydantic(e) for e in exc.errors()]
        profile = None
    return lines, profile, problems


def _compose(text: str) -> yaml.Node:
    """The node tree of a text known to be a profile (read back from the cache)."""
    import yaml

    return yaml.compose(text, Loader=_loader()) or yaml.MappingNode("tag:yaml.org,2002:map", [])


#: A check of a valid profile by a layer above (the policy's of the waivers), reported with
#: the loader's own: file, line and field.
ProfileCheck = Callable[[Profile], list[Problem]]


def parse_profile(
    text: str, source: str, catalog: Catalog | None = None, checks: Sequence[ProfileCheck] = ()
) -> Profile:
    """Validate a profile given as YAML text; ``source`` names it in errors; ``checks`` are
    further checks of a profile that is valid here."""
    from gridcloud.catalog import load_catalog
    from gridcloud.profile.checks import check_profile

    if len(text) > MAX_BYTES:
        raise ProfileError(
            f"{source} is not a profile",
            [f"{source}: {len(text):,} characters; a profile is at most {MAX_BYTES:,}"],
            hint="give the profile's YAML file, not another file",
        )
    profile = memo.recall(text)
    lines: _Lines | None = None
    problems: list[Problem] = []
    if profile is None:
        lines, profile, problems = _structure(text, source)
        if profile is not None and not problems:
            memo.keep(text, profile)
    if profile is not None:
        problems += check_profile(profile, catalog or load_catalog())
        for check in checks:
            problems += check(profile)
    if problems or profile is None:
        if lines is None:  # read back from the cache, so the lines are not known yet
            lines = _Lines(_compose(text))
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise ProfileError(
            f"{source} is not a valid profile ({count})",
            _render(source, lines, problems),
            hint="the profile reference is docs/profile.md; `gridcloud schema` gives editors "
            "the JSON Schema",
        )
    return profile


def load_profile(
    path: Path, catalog: Catalog | None = None, checks: Sequence[ProfileCheck] = ()
) -> Profile:
    """Read and validate the profile at ``path``."""
    try:
        if path.is_file() and path.stat().st_size > 4 * MAX_BYTES:
            raise InputError(
                f"{path} is {path.stat().st_size:,} bytes; a profile is at most "
                f"{MAX_BYTES:,} characters",
                hint="give the profile's YAML file, not another file",
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(
            f"no profile at {path}",
            hint="give a profile's path, or a shipped profile's name (see profiles/)",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read {path}: {exc}",
            hint="a profile is a UTF-8 text file of YAML",
        ) from exc
    return parse_profile(text, str(path), catalog, checks)


def read_fields(path: Path) -> dict[str, Any] | None:
    """The profile's top-level mapping, read without validation, for the commands that need
    a few fields of a profile that may no longer validate (a stack's name, a report's
    scope, the budget's account). The same guards as :func:`parse_profile` (size, depth,
    aliases, YAML errors); None when the file is not such a mapping, so each caller says
    what it needed."""
    import yaml

    try:
        if path.stat().st_size > 4 * MAX_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
        if len(text) > MAX_BYTES or _shape_problem(text) is not None:
            return None
        data = yaml.load(text, Loader=_loader())
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None
