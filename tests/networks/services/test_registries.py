"""Registries (networks/services/registries.py): which registry an image names, by Docker's rule, and a
team's login to one: sealed at rest, one per registry, opened only for a pull of that team's images."""

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from networks.models import RegistryLogin
from networks.services.registries import (
    DOCKER_HUB,
    registry_auth_for,
    registry_login_remove,
    registry_login_set,
    registry_of,
)
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.services import tenant_create

# Docker's reference grammar (distribution/reference): path components, tags, digests, host names.
COMPONENT = st.from_regex(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+){0,2}", fullmatch=True)
HUB_COMPONENT = COMPONENT.filter(lambda part: "." not in part and part != "localhost")
LABEL = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
PORT = st.integers(min_value=1, max_value=65535).map(lambda port: f":{port}")
SUFFIX = st.one_of(
    st.just(""),
    st.from_regex(r":[\w][\w.-]{0,20}", fullmatch=True),
    st.from_regex(r"@sha256:[0-9a-f]{64}", fullmatch=True),
)
DOTTED_HOST = st.lists(LABEL, min_size=2, max_size=4).map(".".join)
REGISTRY = st.one_of(
    st.tuples(DOTTED_HOST, st.one_of(st.just(""), PORT)).map("".join),  # registry.example.com[:5000]
    st.tuples(LABEL, PORT).map("".join),  # myregistry:5000
    st.tuples(st.just("localhost"), st.one_of(st.just(""), PORT)).map("".join),
    st.tuples(*[st.integers(0, 255).map(str)] * 4, PORT).map(lambda p: ".".join(p[:4]) + p[4]),  # 192.168.250.1:5000
)
PATH = st.lists(COMPONENT, min_size=1, max_size=3).map("/".join)


@given(registry=REGISTRY, path=PATH, suffix=SUFFIX)
def test_a_first_part_with_a_dot_a_colon_or_localhost_is_the_registry(registry, path, suffix):
    assert registry_of(f"{registry}/{path}{suffix}") == registry.lower()


@given(first=HUB_COMPONENT, rest=st.lists(COMPONENT, max_size=2), suffix=SUFFIX)
def test_any_other_first_part_is_a_path_on_docker_hub(first, rest, suffix):
    assert registry_of("/".join([first, *rest]) + suffix) == DOCKER_HUB


@given(name=COMPONENT, suffix=SUFFIX)
def test_a_name_without_a_slash_is_on_docker_hub_whatever_its_tag(name, suffix):
    """mysql:5.6, a.b:1 and busybox@sha256:... are Hub images: a tag's colon or a name's dot names no registry."""
    assert registry_of(f"{name}{suffix}") == DOCKER_HUB


@pytest.mark.parametrize(
    "image, registry",
    [
        ("mysql:5.6", DOCKER_HUB),
        ("library/mysql:5.6", DOCKER_HUB),
        ("carina/consul", DOCKER_HUB),
        ("localhost/app", "localhost"),
        ("localhost:5000/app:1", "localhost:5000"),
        ("192.168.250.1:5000/tutorial/mysql:5.6", "192.168.250.1:5000"),
        ("Registry.Example.COM/team/app", "registry.example.com"),
        ("quay.io/coreos/etcd@sha256:" + "a" * 64, "quay.io"),
        ("localhostx/app", DOCKER_HUB),
    ],
)
def test_examples(image, registry):
    assert registry_of(image) == registry


# --- logins ------------------------------------------------------------------------------------

PASSWORD = "s3cret-registry-pw-Ω"


@pytest.fixture
def tenant(db):
    return tenant_create(name="Registry team")


def stored_row(login: RegistryLogin) -> tuple:
    """The row as the database holds it, every column."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {RegistryLogin._meta.db_table} WHERE id = %s", [login.pk])
        return cursor.fetchone()


def test_the_password_is_sealed_in_the_database_and_opens_with_the_portals_keys(tenant):
    login = registry_login_set(
        actor=Actor.system("tests"),
        tenant=tenant,
        registry=" Registry.Example.com:5000 ",
        username=" ci ",
        password=PASSWORD,
    )
    assert (login.registry, login.username) == ("registry.example.com:5000", "ci")
    row = stored_row(login)
    assert not any(PASSWORD in str(column) for column in row)
    sealed = RegistryLogin.objects.values_list("password_sealed", flat=True).get(pk=login.pk)
    assert sealed in row and sealed != PASSWORD
    keys = MultiFernet([Fernet(key) for key in settings.PORTAL_SECRETS_KEYS])
    assert keys.decrypt(sealed.encode()).decode() == PASSWORD


def test_a_second_login_for_the_same_registry_replaces_the_first(tenant):
    first = registry_login_set(
        actor=Actor.system("tests"), tenant=tenant, registry="registry.example.com", username="old", password="pw-1"
    )
    second = registry_login_set(
        actor=Actor.system("tests"), tenant=tenant, registry="REGISTRY.example.com", username="new", password="pw-2"
    )
    assert second.pk == first.pk and RegistryLogin.objects.filter(tenant=tenant).count() == 1
    image = "registry.example.com/team/app:1"
    assert registry_auth_for(tenant=tenant, image=image) == {"username": "new", "password": "pw-2"}


def test_a_pull_gets_the_teams_login_for_the_images_registry_only(tenant):
    registry_login_set(
        actor=Actor.system("tests"), tenant=tenant, registry="192.168.250.1:5001", username="ci", password=PASSWORD
    )
    other = tenant_create(name="Other team")
    image = "192.168.250.1:5001/private/app:1"
    assert registry_auth_for(tenant=tenant, image=image) == {"username": "ci", "password": PASSWORD}
    assert registry_auth_for(tenant=other, image=image) is None
    assert registry_auth_for(tenant=tenant, image="192.168.250.1:5000/private/app:1") is None
    assert registry_auth_for(tenant=tenant, image="mysql:5.6") is None
    assert registry_auth_for(tenant=None, image=image) is None


@pytest.mark.parametrize(
    "registry", ["https://registry.example.com", "registry.example.com/team", "", "-bad.example.com", "a b", "x" * 300]
)
def test_a_bad_registry_address_is_refused_with_the_sentence(tenant, registry):
    with pytest.raises(ServiceError) as refused:
        registry_login_set(
            actor=Actor.system("tests"), tenant=tenant, registry=registry, username="ci", password=PASSWORD
        )
    assert refused.value.code == "bad_registry" and refused.value.field == "registry"
    shown = registry.strip().lower()[:100]
    assert refused.value.message == (
        f'"{shown}" is not a registry address. Give it as images name it: host or host:port.'
    )
    assert not RegistryLogin.objects.exists()


@pytest.mark.parametrize(
    "username, password, field",
    [("", PASSWORD, "username"), ("  ", PASSWORD, "username"), ("ci", "", "password"), ("x" * 256, "pw", "username")],
)
def test_a_login_needs_a_user_name_and_a_password(tenant, username, password, field):
    with pytest.raises(ServiceError) as refused:
        registry_login_set(
            actor=Actor.system("tests"),
            tenant=tenant,
            registry="registry.example.com",
            username=username,
            password=password,
        )
    assert refused.value.field == field
    assert not RegistryLogin.objects.exists()


def test_a_removed_login_is_no_longer_used(tenant):
    login = registry_login_set(
        actor=Actor.system("tests"), tenant=tenant, registry="registry.example.com", username="ci", password=PASSWORD
    )
    registry_login_remove(actor=Actor.system("tests"), login=login)
    assert not RegistryLogin.objects.exists()
    assert registry_auth_for(tenant=tenant, image="registry.example.com/app") is None
