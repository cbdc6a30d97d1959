"""Reading settings from the environment: a yes/no and a comma-separated list, as the settings modules
read them, and the origins a provider's URLs name."""

import os
from urllib.parse import urlsplit


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def sso_origins(issuer: str, extra: list[str]) -> list[str]:
    """The origins (scheme://host:port) of the identity provider's issuer and of any extra URLs given."""
    origins = []
    for url in [issuer, *extra]:
        parts = urlsplit(url)
        if parts.scheme and parts.netloc and f"{parts.scheme}://{parts.netloc}" not in origins:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins
