"""The client and the portal's OpenAPI schema agree: every path, method, query parameter and body field the
client sends, and every response field it reads, is in the schema's snapshot (which
tests/networks/api/test_schema_snapshot.py keeps equal to the live /api/v1/schema/)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from overlay_cli import api, types

SNAPSHOT = Path(__file__).resolve().parents[1] / "networks" / "api" / "schema.snapshot.yaml"
# Issue 25's `docker network create` fields: the client sends them only when given, so they may be
# missing from a schema that predates them; once there, they are checked like every other field.
AWAITED = {"NetworkCreateBody": {"ip_range", "aux_addresses", "mtu", "attachable"}}
# Nested request bodies, by the schema component each stands for.
NESTED = {"NetworkAttachRequest": types.NetworkAttachBody, "EnvironmentRequest": types.EnvironmentBody}


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load(SNAPSHOT.read_text())


def component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def fields(typed: type) -> set[str]:
    return set(typed.__annotations__)


@pytest.mark.parametrize("name", sorted(api.ENDPOINTS))
def test_each_call_is_in_the_schema_with_what_it_sends(schema, name):
    endpoint = api.ENDPOINTS[name]
    operation = schema["paths"].get(endpoint.path, {}).get(endpoint.method.lower())
    assert operation is not None, f"{endpoint.method} {endpoint.path} is not in the schema"
    query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    assert set(endpoint.query) <= query, f"{name}: query parameters the schema lacks: {set(endpoint.query) - query}"
    request = operation.get("requestBody")
    if endpoint.body is None:
        assert not (request and request.get("required")), f"{name}: the schema requires a body the client never sends"
        return
    assert request, f"{name}: the client sends a body the schema does not take"
    sent = request["content"]["application/json"]["schema"]
    assert (sent.get("type") == "array") == endpoint.many, f"{name}: a list on one side, an object on the other"
    body = component(schema, (sent["items"] if endpoint.many else sent)["$ref"])
    properties = set(body["properties"])
    unknown = fields(endpoint.body) - properties - AWAITED.get(endpoint.body.__name__, set())
    assert not unknown, f"{name}: fields the schema does not know: {sorted(unknown)}"
    missing = set(body.get("required", [])) - fields(endpoint.body)
    assert not missing, f"{name}: required fields the client cannot send: {sorted(missing)}"


@pytest.mark.parametrize("ref", sorted(NESTED))
def test_nested_bodies_send_only_fields_the_schema_knows(schema, ref):
    assert fields(NESTED[ref]) <= set(schema["components"]["schemas"][ref]["properties"])


@pytest.mark.parametrize("ref", sorted(types.RESPONSES))
def test_each_field_the_client_reads_is_in_the_answer(schema, ref):
    properties = set(schema["components"]["schemas"][ref]["properties"])
    unknown = fields(types.RESPONSES[ref]) - properties
    assert not unknown, f"{ref}: the client reads fields the schema does not have: {sorted(unknown)}"


def test_an_awaited_field_in_the_schema_has_the_clients_type(schema):
    """When issue 25's fields arrive, their types must be the ones the client sends."""
    properties = schema["components"]["schemas"]["NetworkCreateRequest"]["properties"]
    expected = {"ip_range": "string", "aux_addresses": "object", "mtu": "integer", "attachable": "boolean"}
    for field, kind in expected.items():
        if field in properties:
            assert properties[field].get("type") == kind, (field, properties[field])
