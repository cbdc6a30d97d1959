"""Docker's image reference grammar, as distribution's `reference` package writes it (regexp.go and
normalize.go): `[HOST[:PORT]/]NAME[:TAG][@DIGEST]`. Pure: no Django, no Docker.

    reference   := name [":" tag] ["@" digest]
    name        := [domain "/"] path                 (at most 255 characters)
    domain      := host [":" port]                   host: DNS labels joined by ".", or [IPv6]
    path        := component ["/" component]*        component: [a-z0-9]+ joined by . _ __ or -+
    tag         := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest      := algorithm ":" hex                 algorithm: [A-Za-z][A-Za-z0-9]* joined by + . _ -

As in Docker, a first part is the registry only when it has a dot or a colon or is `localhost`
(otherwise it is the first path component, and must be lowercase like the rest of the path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_MAX_LENGTH = 255
TAG_MAX_LENGTH = 128

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
DOMAIN = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
TAG = re.compile(rf"[\w][\w.-]{{0,{TAG_MAX_LENGTH - 1}}}", re.ASCII)
DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")

EXAMPLES = "such as busybox, busybox:1.36 or registry.example.com:5000/team/app:1.2"


class InvalidReference(ValueError):
    """Why a text is not an image reference: a clause to follow "is not a valid image reference: "."""


@dataclass(frozen=True)
class ImageReference:
    domain: str  # "" when the reference names no registry (Docker Hub)
    path: str
    tag: str = ""
    digest: str = ""

    def __str__(self) -> str:
        name = f"{self.domain}/{self.path}" if self.domain else self.path
        return name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def _split_domain(name: str) -> tuple[str, str]:
    """Docker's splitDockerDomain: a first part with "." or ":", or "localhost", is the registry."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "", name


def parse_image_reference(text: str) -> ImageReference:
    """The reference `text` writes, or InvalidReference saying what is wrong with it."""
    if not text:
        raise InvalidReference("it is empty")
    if any(c.isspace() for c in text):
        raise InvalidReference("it contains a space")
    remainder, at, digest = text.partition("@")
    if at and not DIGEST.fullmatch(digest):
        raise InvalidReference("a digest is ALGORITHM:HEX, such as sha256: and 64 hexadecimal digits")
    name, tag = remainder, ""
    last_colon = remainder.rfind(":")
    if last_colon > remainder.rfind("/"):  # a colon after the last slash starts the tag, not a port
        name, tag = remainder[:last_colon], remainder[last_colon + 1 :]
        if len(tag) > TAG_MAX_LENGTH:
            raise InvalidReference(f"a tag is at most {TAG_MAX_LENGTH} characters (this one has {len(tag)})")
        if not TAG.fullmatch(tag):
            raise InvalidReference("a tag is letters, digits, _ . and -, not starting with . or -")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidReference(f"a name is at most {NAME_MAX_LENGTH} characters (this one has {len(name)})")
    domain, path = _split_domain(name)
    if domain and not DOMAIN.fullmatch(domain):
        if not PATH.fullmatch(name):
            raise InvalidReference(f"“{domain}” is not a registry address (HOST or HOST:PORT)")
        domain, path = "", name  # as Docker reads it: all path, on Docker Hub (such as a__b.c/app)
    if path != path.lower():
        raise InvalidReference("the name must be lowercase")
    if not PATH.fullmatch(path):
        raise InvalidReference(
            "a name is lowercase letters and digits, separated by / into parts that may hold single . or _, "
            "double _ or any number of -"
        )
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest)


def image_reference_refusal(text: str) -> str | None:
    """The sentence refusing `text` as an image reference; None when it is one."""
    try:
        parse_image_reference(text)
    except InvalidReference as reason:
        return (
            f"“{text}” is not a valid image reference: {reason}. Write [HOST[:PORT]/]NAME[:TAG][@DIGEST], {EXAMPLES}."
        )
    return None
