"""What every list and detail endpoint promises, written once; each resource is configuration.

Each class names its path and how to make one object for a team; the contract checks list,
get, another tenant's id (404, the same as a missing one), unauthenticated (401), ordering,
pagination and, for resources scripts create, that a viewer is refused with the UI's sentence.
"""

import pytest

from networks.models import Operation
from networks.services.clusters.registration import cluster_record
from networks.services.registries import registry_login_set
from plumbing.api.errors import NOT_AUTHENTICATED
from portal.actors import Actor
from tests.apiclient import Api, assert_error
from tests.factories import found_swarm, made_bundle, numbers

pytestmark = pytest.mark.django_db

READ_ONLY = "Your role in this tenant is read-only. Ask an owner to make you a member."


class ResourceContract:
    path: str
    noun: str
    read_role = "viewer"  # the least role that may read
    order_by = "-id"

    def make(self, team):
        raise NotImplementedError

    def test_list_shows_only_the_tenants_objects(self, team, other_team):
        mine = [self.make(team), self.make(team)]
        theirs = self.make(other_team)
        response = team.api(self.read_role).get(f"{self.path}/")
        assert response.status_code == 200, response.content
        ids = [item["id"] for item in response.json()["results"]]
        assert {obj.pk for obj in mine} <= set(ids)
        assert theirs.pk not in ids
        assert response.json()["count"] == len(ids)

    def test_get(self, team):
        obj = self.make(team)
        response = team.api(self.read_role).get(f"{self.path}/{obj.pk}/")
        assert response.status_code == 200, response.content
        assert response.json()["id"] == obj.pk

    def test_another_tenants_object_is_the_same_404_as_a_missing_one(self, team, other_team):
        theirs = self.make(other_team)
        foreign = team.api("owner").get(f"{self.path}/{theirs.pk}/")
        missing = team.api("owner").get(f"{self.path}/987654321/")
        assert_error(foreign, 404, "not_found", message=f"No such {self.noun}.")
        assert foreign.json() == missing.json()

    def test_unauthenticated_is_401(self, team):
        response = Api().get(f"{self.path}/")
        assert_error(response, 401, "not_authenticated", message=NOT_AUTHENTICATED)
        assert response["WWW-Authenticate"] == "Token"

    def test_ordering_and_pagination(self, team):
        first, second = self.make(team), self.make(team)
        api = team.api(self.read_role)
        page = api.get(f"{self.path}/", {"ordering": self.order_by, "page_size": 1})
        assert page.status_code == 200, page.content
        assert len(page.json()["results"]) == 1 and page.json()["next"]
        ids = [item["id"] for item in api.get(f"{self.path}/", {"ordering": self.order_by}).json()["results"]]
        assert ids.index(second.pk) < ids.index(first.pk)
        assert_error(api.get(f"{self.path}/", {"page": 99}), 404, "not_found")

    def test_next_links_walk_to_the_last_page_keeping_the_ordering(self, team):
        made = [self.make(team).pk for _ in range(5)]
        api = team.api(self.read_role)
        seen, pages = [], 0
        url, params = f"{self.path}/", {"ordering": self.order_by, "page_size": 2}
        while url:
            body = api.get(url, params).json()
            seen += [item["id"] for item in body["results"]]
            url, params, pages = body["next"], None, pages + 1
            if url:
                assert f"ordering={self.order_by}" in url and "page_size=2" in url
        assert pages == (body["count"] + 1) // 2
        assert set(made) <= set(seen) and len(seen) == len(set(seen)) == body["count"]
        assert [pk for pk in seen if pk in made] == sorted(made, reverse=self.order_by.startswith("-"))


class CreatableContract(ResourceContract):
    create_body: dict

    def test_viewer_cannot_create(self, team):
        response = team.api("viewer").post(f"{self.path}/", self.create_body)
        assert_error(response, 403, "permission_denied", message=READ_ONLY)


class TestClusters(ResourceContract):
    path, noun = "clusters", "cluster"
    order_by = "-created"

    def make(self, team):
        name = f"c{next(numbers)}"
        return cluster_record(tenant=team.tenant, found=found_swarm(swarm_id=name), bundle=made_bundle(), name=name)


class TestNetworks(CreatableContract):
    path, noun = "networks", "network"
    create_body = {"name": "mynetwork"}
    order_by = "-created"

    def make(self, team):
        return team.network()


class TestContainers(CreatableContract):
    path, noun = "containers", "container"
    create_body = {"name": "mysql", "image": "overlay-portal/tools:latest"}
    order_by = "-created"

    def make(self, team):
        return team.container()


class TestOperations(ResourceContract):
    path, noun = "operations", "operation"
    order_by = "-created"

    def make(self, team):
        return Operation.objects.get(network=team.network(), kind=Operation.Kind.NETWORK_CREATE)


class TestRegistryLogins(ResourceContract):
    path, noun = "registry-logins", "registry login"
    order_by = "-created"

    def make(self, team):
        registry = f"registry{next(numbers)}.example.com"
        return registry_login_set(
            actor=Actor.system("tests"), tenant=team.tenant, registry=registry, username="ci", password="pw"
        )


class TestMembers(ResourceContract):
    path, noun = "members", "member"
    read_role = "owner"
    order_by = "-created"

    def make(self, team):
        from django.contrib.auth import get_user_model

        from portal.services import membership_add

        user = get_user_model().objects.create_user(username=f"extra{next(numbers)}")
        return membership_add(actor=Actor.system("tests"), tenant=team.tenant, username=user.username, role="viewer")


class TestTokens(ResourceContract):
    path, noun = "tokens", "token"
    read_role = "owner"
    order_by = "-created"

    def make(self, team):
        from portal.services import api_token_create

        return api_token_create(actor=Actor.system("tests"), user=team.users["owner"], name="more")[0]

    def test_list_shows_only_the_tenants_objects(self, team, other_team):
        """Tokens are the user's own: another user's never shows, even in the same tenant."""
        mine = self.make(team)
        from portal.services import api_token_create

        colleague = api_token_create(actor=Actor.system("tests"), user=team.users["member"], name="theirs")[0]
        ids = [item["id"] for item in team.api("owner").get("tokens/").json()["results"]]
        assert mine.pk in ids and colleague.pk not in ids
