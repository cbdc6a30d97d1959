"""networks/image_reference.py: the grammar of an image reference, against distribution's own regexp.

The oracle below is distribution's regexp.go (anchoredReferenceRegexp) copied as written, plus the two
rules normalize.go adds: a name of at most 255 characters, and a repository (what follows a registry,
or all of the name when the first part is no registry) in lowercase."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from networks.image_reference import ImageReference, InvalidReference, image_reference_refusal, parse_image_reference

PROPERTY = settings(max_examples=300, deadline=None)

ALPHA_NUMERIC = r"[a-z0-9]+"
SEPARATOR = r"(?:[._]|__|[-]+)"
PATH_COMPONENT = rf"{ALPHA_NUMERIC}(?:{SEPARATOR}{ALPHA_NUMERIC})*"
DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
DOMAIN_NAME = rf"{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*"
HOST = rf"(?:{DOMAIN_NAME}|\[(?:[a-fA-F0-9:]+)\])"
DOMAIN = rf"{HOST}(?::[0-9]+)?"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
NAME = rf"(?:{DOMAIN}/)?{PATH_COMPONENT}(?:/{PATH_COMPONENT})*"
ANCHORED_REFERENCE = re.compile(rf"^({NAME})(?::({TAG}))?(?:@({DIGEST}))?$")


def docker_accepts(text: str) -> bool:
    match = ANCHORED_REFERENCE.match(text)
    if match is None:
        return False
    name = match[1]
    first, slash, rest = name.partition("/")
    repository = rest if slash and ("." in first or ":" in first or first == "localhost") else name
    return len(name) <= 255 and repository == repository.lower()


path_components = st.from_regex(rf"\A{PATH_COMPONENT}\Z", fullmatch=True).filter(lambda c: len(c) <= 30)
hosts = st.one_of(
    st.just("localhost"),
    st.from_regex(rf"\A{DOMAIN_COMPONENT}\.{DOMAIN_COMPONENT}\Z", fullmatch=True),
    st.just("[::1]"),
)
domains = st.tuples(hosts, st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))).map("".join)
valid_references = st.builds(
    lambda domain, path, tag, digest: ImageReference(domain=domain, path="/".join(path), tag=tag, digest=digest),
    st.one_of(st.just(""), domains),
    st.lists(path_components, min_size=1, max_size=3),
    st.one_of(st.just(""), st.from_regex(rf"\A{TAG}\Z", fullmatch=True)),
    st.one_of(st.just(""), st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")),
).filter(
    # without a registry, a first part with a dot or named localhost would be read as the registry
    lambda ref: len(f"{ref.domain}/{ref.path}") <= 255
    and (ref.domain or not ("." in ref.path.split("/")[0] or ref.path.split("/")[0] == "localhost"))
)


@st.composite
def broken_references(draw):
    """A valid reference with a character Docker never allows in it put somewhere."""
    text = str(draw(valid_references))
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(" !\t#$%&*,;\"'")) + text[at:]


@PROPERTY
@given(valid_references)
def test_what_the_grammar_writes_is_read_back_whole(reference):
    assert parse_image_reference(str(reference)) == reference
    assert image_reference_refusal(str(reference)) is None


@PROPERTY
@given(broken_references())
def test_a_character_outside_the_grammar_is_refused_wherever_it_is(text):
    with pytest.raises(InvalidReference):
        parse_image_reference(text)


@PROPERTY
@given(st.one_of(valid_references.map(str), broken_references(), st.text("aZ09._-:/@[]", max_size=40)))
def test_it_accepts_exactly_what_docker_accepts(text):
    try:
        parse_image_reference(text)
        accepted = True
    except InvalidReference:
        accepted = False
    assert accepted == docker_accepts(text), text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no such image!!", "it contains a space"),
        ("Busybox", "the name must be lowercase"),
        ("busybox:" + "t" * 129, "a tag is at most 128 characters (this one has 129)"),
        ("busybox@sha256:abc", "a digest is ALGORITHM:HEX, such as sha256: and 64 hexadecimal digits"),
        ("bad_host-:5000/app", "“bad_host-:5000” is not a registry address (HOST or HOST:PORT)"),
        ("a___b", "a name is lowercase letters and digits, separated by / into parts that may hold single . or _, "
         "double _ or any number of -"),
    ],
)  # fmt: skip
def test_each_refusal_says_what_is_wrong(text, reason):
    assert image_reference_refusal(text) == (
        f"“{text}” is not a valid image reference: {reason}. Write [HOST[:PORT]/]NAME[:TAG][@DIGEST], such as "
        "busybox, busybox:1.36 or registry.example.com:5000/team/app:1.2."
    )


@pytest.mark.parametrize(
    "text",
    ["busybox", "overlay-portal/tools:latest", "localhost:5000/team/app:1.2", "Registry.Example.com/a", "[::1]:5000/x"],
)
def test_references_people_write_are_accepted(text):
    assert image_reference_refusal(text) is None
