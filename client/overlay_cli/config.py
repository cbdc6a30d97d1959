"""Profiles in ~/.config/overlay/config.toml (XDG_CONFIG_HOME honoured), readable only by their owner.

A profile holds a portal's URL, a token and, optionally, a team's slug. OVERLAY_URL, OVERLAY_TOKEN and
OVERLAY_TENANT override the profile's values; `--profile` (or OVERLAY_PROFILE) picks the profile.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROFILE = "default"


class ConfigError(Exception):
    """A sentence telling the user what to set up."""


@dataclass(frozen=True)
class Profile:
    name: str
    url: str
    token: str
    tenant: str = ""


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "overlay" / "config.toml"


def read_all(path: Path | None = None) -> dict[str, dict[str, str]]:
    path = path or config_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML ({error}): fix it or run `overlay login` again.") from error
    return {name: {k: str(v) for k, v in values.items()} for name, values in data.items() if isinstance(values, dict)}


def _quote(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_profile(profile: Profile, path: Path | None = None) -> Path:
    """Add or replace one profile; the file is created with mode 0600 and kept so."""
    path = path or config_path()
    profiles = read_all(path)
    profiles[profile.name] = {"url": profile.url, "token": profile.token, "tenant": profile.tenant}
    lines = []
    for name in sorted(profiles):
        lines.append(f"[{_quote(name)}]")
        lines.extend(f"{key} = {_quote(value)}" for key, value in profiles[name].items() if value)
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file made with a wider mode is narrowed too
    with os.fdopen(descriptor, "w") as out:
        out.write("\n".join(lines))
    return path


def load(profile_name: str | None = None, path: Path | None = None) -> Profile:
    name = profile_name or os.environ.get("OVERLAY_PROFILE") or DEFAULT_PROFILE
    profiles = read_all(path)
    if profile_name and name not in profiles:
        raise ConfigError(f'No profile "{name}": run `overlay login --profile {name} --url URL --token KEY`.')
    values = profiles.get(name, {})
    url = os.environ.get("OVERLAY_URL") or values.get("url", "")
    token = os.environ.get("OVERLAY_TOKEN") or values.get("token", "")
    tenant = os.environ.get("OVERLAY_TENANT") or values.get("tenant", "")
    if not url or not token:
        raise ConfigError(
            "No portal to talk to: run `overlay login --url URL --token KEY`, or set OVERLAY_URL and OVERLAY_TOKEN."
        )
    return Profile(name=name, url=url.rstrip("/"), token=token, tenant=tenant)
