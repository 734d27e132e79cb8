"""The profile's waivers (``policy.waivers``) checked against the rules: a waiver names a
rule, once. The loader reports what this finds with the file, the line and the field, as it
does its own (``load_profile(..., checks=PROFILE_CHECKS)``, from the use case)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridcloud.policy.rules import RULE_IDS
from gridcloud.profile.loader import Problem, suggest

if TYPE_CHECKING:
    from gridcloud.profile import Profile
    from gridcloud.profile.loader import ProfileCheck


def check_waivers(profile: Profile) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for i, waiver in enumerate(profile.policy.waivers):
        if waiver.rule not in RULE_IDS:
            problems.append(
                Problem(
                    ("policy", "waivers", i, "rule"),
                    f"'{waiver.rule}' is not a policy rule (docs/policy.md lists them)",
                    suggest(waiver.rule, RULE_IDS),
                )
            )
        elif waiver.rule in seen:
            problems.append(Problem(("policy", "waivers", i, "rule"), "waived more than once"))
        seen.add(waiver.rule)
    return problems


#: The policy's checks of a profile, for the loader.
PROFILE_CHECKS: tuple[ProfileCheck, ...] = (check_waivers,)
