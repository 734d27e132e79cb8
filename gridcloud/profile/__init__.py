"""Profiles: the user's intent, validated."""

from __future__ import annotations

from gridcloud.profile.loader import load_profile, parse_profile
from gridcloud.profile.models import API_VERSION, Profile
from gridcloud.profile.shards import Shards  # completes Profile (its shards field)

__all__ = ["API_VERSION", "Profile", "Shards", "load_profile", "parse_profile"]
