"""One error shape for every refusal; malformed requests are 400s, never 500s."""

import pytest

from tests.apiclient import Api, assert_error

pytestmark = pytest.mark.django_db


def test_bad_json_is_a_400(team):
    response = team.api().raw("post", "networks/", '{"name": "mynetwork",')
    error = assert_error(response, 400, "parse_error", field=None)
    assert "JSON" in error["message"]


TOO_DEEP = (
    "The JSON body is nested more than 32 levels deep; no request of this API is. Send the fields as the API's "
    "schema (/api/v1/docs/) shows them."
)


@pytest.mark.parametrize("depth", [33, 900, 100_000])
def test_json_nested_too_deep_is_a_400_with_a_sentence(team, depth):
    # 100,000 levels ran the decoder out of stack (a RecursionError, a 500); 33 parse, and are refused after.
    body = '{"name": "web", "labels": ' + "[" * depth + "]" * depth + "}"
    assert_error(team.api().raw("post", "networks/", body), 400, "too_deep", field=None, message=TOO_DEEP)


def test_json_as_deep_as_allowed_reaches_the_serializer(team):
    body = '{"name": "web", "labels": ' + "[" * 32 + "]" * 32 + "}"  # 33 with the body itself: refused below
    assert_error(team.api().raw("post", "networks/", body), 400, "too_deep")
    body = '{"name": "web", "labels": ' + "[" * 31 + "]" * 31 + "}"
    assert_error(team.api().raw("post", "networks/", body), 400, "not_a_dict", field="labels")


def test_a_body_that_is_not_an_object_is_a_400(team):
    assert_error(team.api().raw("post", "networks/", "[1, 2]"), 400, "invalid")
    assert_error(team.api().raw("post", "networks/", '"mynetwork"'), 400, "invalid")


def test_form_bodies_are_415(team):
    response = team.api().raw("post", "networks/", "name=mynetwork", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "mynetwork", "subent": "10.0.9.0/24"}, "subent"),
        ({"name": "mynetwork", "labels": {"team": "a"}, "Internal": True}, "Internal"),
    ],
)
def test_unknown_fields_are_named(team, body, field):
    error = assert_error(team.api().post("networks/", body), 400, "unknown_field", field=field)
    assert f'Unknown field "{field}"' in error["message"]


def test_unknown_fields_in_nested_objects_are_refused(team):
    body = {"name": "web", "image": "overlay-portal/tools:latest", "environment": [{"name": "A", "valu": "1"}]}
    assert_error(team.api().post("containers/", body), 400, "unknown_field", field="environment.0.valu")


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("networks/", {"name": 42}, "name"),
        ("networks/", {"name": "n", "internal": "yes"}, "internal"),
        ("networks/", {"name": "n", "prefixlen": "24"}, "prefixlen"),
        ("networks/", {"name": "n", "prefixlen": 24.5}, "prefixlen"),
        ("networks/", {"name": "n", "cluster": True}, "cluster"),
        ("networks/", {"name": "n", "labels": {"team": 1}}, "labels.team"),
        ("networks/", {"name": "n", "labels": ["team=a"]}, "labels"),
        ("containers/", {"name": "c", "image": "i", "ports": "80:80"}, "ports"),
        ("containers/", {"name": "c", "image": "i", "networks": [{"network": True}]}, "networks.0.network"),
        ("containers/", {"name": "c", "image": "i", "networks": ["mynetwork"]}, "networks.0"),
        ("containers/", {"name": "c", "image": "i", "restart_policy": "sometimes"}, "restart_policy"),
        ("containers/", {"name": "c", "image": "i", "cluster": 2**70}, "cluster"),
    ],
)
def test_wrong_types_are_400s_naming_the_field(team, path, body, field):
    assert_error(team.api().post(path, body), 400, field=field)


@pytest.mark.parametrize(
    "cluster, sentence",
    [
        ("local", "cluster: This field takes an id, a whole number such as 1, as the API's lists give it; not a name."),
        (0, "cluster: This field takes an id, a whole number from 1 up."),
        (2**70, "cluster: This field takes an id, and none is that large."),
    ],
)
def test_an_id_that_is_not_one_says_what_an_id_is(team, cluster, sentence):
    assert_error(
        team.api().post("networks/", {"name": "n", "cluster": cluster}), 400, field="cluster", message=sentence
    )


def test_a_missing_field_says_which(team):
    assert_error(
        team.api().post("networks/", {}), 400, "required", field="name", message="name: This field is required."
    )


def test_the_restart_policy_sentence_is_the_services(team):
    body = {"name": "c", "image": "i", "restart_policy": "sometimes"}
    assert_error(
        team.api().post("containers/", body),
        400,
        message="Restart policy must be one of no, always, unless-stopped, on-failure.",
    )


def test_unknown_urls_and_methods_answer_in_the_error_shape(team):
    assert_error(team.api().get("nothing-here/"), 404, "not_found")
    assert_error(team.api().get("networks/not-a-number/"), 404, "not_found")
    assert_error(team.api().get(f"networks/{10**30}/"), 404, "not_found")
    assert_error(team.api().raw("put", f"networks/{team.network().pk}/", "{}"), 405, "method_not_allowed")


def test_bad_filters_are_400s(team, other_team):
    assert_error(
        team.api().get("networks/", {"status": "sleeping"}),
        400,
        "invalid_choice",
        field="status",
        message='"sleeping" is not a status: use one of creating, active, removing, removed, failed.',
    )
    assert_error(
        team.api().get("operations/", {"kind": ["network.create", "network.explode"]}),
        400,
        "invalid_choice",
        field="kind",
        message='"network.explode" is not a kind: use one of network.create, network.remove, network.connect, '
        "network.disconnect, container.run, container.stop, container.start, container.restart, container.remove, "
        "cluster.reconcile.",
    )
    assert_error(
        team.api().get("networks/", {"cluster": other_team.cluster.pk}),
        400,
        "invalid_choice",
        field="cluster",
        message=f'Your team has no cluster with the id "{other_team.cluster.pk}": use the id of one of its own, '
        "or leave cluster out.",
    )
    assert_error(team.api().get("containers/", {"network": "x"}), 400, field="network")
    assert_error(
        team.api().get("networks/", {"ordering": "-subnet,nonsense"}),
        400,
        "bad_ordering",
        field="ordering",
        message="This list cannot be ordered by nonsense. "
        "Order by one of name, subnet, status, containers, created, updated; a leading - reverses the order.",
    )
    assert team.api().get("networks/", {"ordering": "-subnet,"}).status_code == 200  # a stray comma is harmless


def test_a_filters_sentence_holds_once_its_field_was_built_on_the_class(team):
    """The API's schema builds each filter's form field on the filterset's class (found in a full run: after it,
    lists answered Django's sentence again)."""
    from networks.filters import NetworkFilterSet

    NetworkFilterSet.base_filters["status"].field  # noqa: B018 (as drf-spectacular does)
    refused = team.api().get("networks/", {"status": "sleeping"}).json()["error"]["message"]
    assert refused.startswith('"sleeping" is not a status: use one of')


def test_filters_are_the_uis(team):
    active, _removing = team.network("alpha"), team.network("beta", status="removing")
    listed = team.api("viewer").get("networks/", {"status": "active"}).json()["results"]
    assert [n["id"] for n in listed] == [active.pk]
    assert [n["name"] for n in team.api().get("networks/", {"q": "bet"}).json()["results"]] == ["beta"]


def test_the_schema_and_docs_are_served(team):
    schema = team.api().get("/api/v1/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200
    assert b"/api/v1/networks/{id}/inspect/" in schema.content
    docs = team.api().client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower() and b"//unpkg" not in docs.content


def test_schema_needs_no_login_to_read_but_the_api_does():
    assert Api().get("/api/v1/schema/").status_code == 200
    assert Api().get("networks/").status_code == 401


# --- text no column can hold: too long, a NUL, a lone surrogate -----------------------------------------

NUL = (
    "This field contains a NUL character (\\x00), which the portal cannot store. Remove it."  # as the portal writes it
)


@pytest.mark.parametrize(
    "path, body, field, limit, length",
    [
        ("containers/", {"name": "c", "image": "i" * 10_000}, "image", 255, 10_000),  # was a DataError, a 500
        ("containers/", {"name": "c" * 129, "image": "i"}, "name", 128, 129),
        ("networks/", {"name": "n", "subnet": "1" * 44}, "subnet", 43, 44),
        ("tokens/", {"name": "t" * 101}, "name", 100, 101),
        (
            "containers/",
            {"name": "c", "image": "i", "networks": [{"network": "n", "ipv4_address": "1" * 40}]},
            "networks.0.ipv4_address",
            39,
            40,
        ),
    ],
)
def test_text_longer_than_its_column_is_a_400_naming_the_field(team, path, body, field, limit, length):
    message = f"{field}: This field takes at most {limit} characters (it has {length})."
    assert_error(team.api().post(path, body), 400, "max_length", field=field, message=message)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("tokens/", {"name": "a\x00b"}, "name"),
        ("networks/", {"name": "n", "labels": {"team\x00": "a"}}, "labels"),  # a key: no field checks those
        ("containers/", {"name": "c", "image": "i", "networks": [{"network": "web\x00"}]}, "networks"),
        ("containers/", {"name": "c", "image": "i", "environment": [{"name": "A", "value": "\x00"}]}, "environment"),
        ("containers/", {"name": "c", "image": "i", "command": ["sh", "-c", "\x00"]}, "command"),
    ],
)
def test_a_nul_anywhere_in_a_field_is_a_400_naming_it(team, path, body, field):
    message = f"{field}: {NUL}"
    assert_error(team.api().post(path, body), 400, "nul_character", field=field, message=message)


def test_a_lone_surrogate_in_a_key_is_a_400(team):
    response = team.api().raw("post", "networks/", '{"name": "n", "labels": {"\\udc80": "a"}}')
    error = assert_error(response, 400, "surrogate_character", field="labels")
    assert error["message"].startswith("labels: This field contains a lone surrogate (\\ud800 to \\udfff)")
