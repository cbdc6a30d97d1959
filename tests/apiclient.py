"""Helpers and fixtures of the REST API tests: tenants, users in each role with API tokens, and clusters
recorded in the database only.

Tests here that use the `db` fixture never reach a worker: the services enqueue their tasks
when the transaction commits, and pytest-django's test transaction never does. The tests that
go through the real worker and cluster use `tenant_cluster` and `celery_worker_process`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from networks.models import Container, Network
from networks.services.clusters.registration import cluster_record
from networks.services.containers.run import container_run
from networks.services.networks import network_create
from portal.models import Membership
from portal.services import api_token_create, membership_set, tenant_create
from tests.support import found_swarm, made_bundle

_numbers = itertools.count(1)


class Api:
    """A DRF test client that sends a user's token and, when given, X-Tenant."""

    def __init__(self, key: str | None = None, tenant: str | None = None):
        self.client = APIClient()
        if key:
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.headers = {"X-Tenant": tenant} if tenant else {}

    def _call(self, method, path, data=None, headers=None, **kwargs):
        url = path if path.startswith(("/", "http")) else f"/api/v1/{path}"
        call = getattr(self.client, method)
        return call(url, data, format="json", headers={**self.headers, **(headers or {})}, **kwargs)

    def get(self, path, params=None, **kwargs):
        return self._call("get", path, params, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self._call("post", path, data, **kwargs)

    def patch(self, path, data=None, **kwargs):
        return self._call("patch", path, data, **kwargs)

    def delete(self, path, **kwargs):
        return self._call("delete", path, **kwargs)

    def raw(self, method, path, body: bytes | str, content_type="application/json", **kwargs):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return getattr(self.client, method)(url, body, content_type=content_type, headers=self.headers, **kwargs)


@dataclass
class Team:
    tenant: object
    cluster: object
    users: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)

    def api(self, role: str = "owner", **kwargs) -> Api:
        return Api(self.keys[role], **kwargs)

    def network(self, name: str | None = None, status=Network.Status.ACTIVE, **kwargs) -> Network:
        operation = network_create(
            tenant=self.tenant, cluster=self.cluster, name=name or f"net{next(_numbers)}", **kwargs
        )
        Network.objects.filter(pk=operation.network_id).update(status=status, docker_id="d" * 64)
        return Network.objects.get(pk=operation.network_id)

    def container(self, name: str | None = None, status=Container.Status.RUNNING, **kwargs) -> Container:
        kwargs.setdefault("image", "overlay-portal/tools:latest")
        operation = container_run(tenant=self.tenant, cluster=self.cluster, name=name or f"c{next(_numbers)}", **kwargs)
        Container.objects.filter(pk=operation.container_id).update(status=status, docker_id="c" * 64)
        return Container.objects.get(pk=operation.container_id)


def make_team(name: str) -> Team:
    tenant = tenant_create(name=name)
    cluster = cluster_record(
        tenant=tenant,
        found=found_swarm(swarm_id=f"swarm-{tenant.slug}"),
        bundle=made_bundle(),
        name=f"local-{tenant.slug}",
    )
    team = Team(tenant=tenant, cluster=cluster)
    for role in Membership.Role.values:
        user = get_user_model().objects.create_user(username=f"{tenant.slug}-{role}")
        membership_set(tenant=tenant, user=user, role=role)
        team.users[role] = user
        team.keys[role] = api_token_create(user=user, name="tests")[1]
    return team


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()  # throttling counts live in the cache; each test starts from zero
    yield
    cache.clear()


@pytest.fixture
def team(db) -> Team:
    return make_team(f"Blue {next(_numbers)}")


@pytest.fixture
def other_team(db) -> Team:
    return make_team(f"Red {next(_numbers)}")


def assert_error(response, status: int, code: str | None = None, field: str | None = ..., message: str | None = None):
    """The one error shape: {"error": {"code", "message", "field"}}."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    if field is not ...:
        assert body["error"]["field"] == field, body
    if message is not None:
        assert body["error"]["message"] == message, body
    return body["error"]
