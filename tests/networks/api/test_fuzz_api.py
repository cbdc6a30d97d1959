"""No request makes the API answer 500, and every answer is one the schema describes: schemathesis
generates requests from the OpenAPI schema (positive and negative) and sends them to the portal's
WSGI application in the test's transaction, as an owner with a token. No cluster and no worker:
nothing commits, so nothing is enqueued; the calls that wait for a worker's answer (a network's
inspect, a cluster's live health, a diagnosis) are left to tests/networks/api/test_schema.py on the real cluster.

Bounded and deterministic: EXAMPLES per operation and mode, a fixed SEED, no shrinking. (Runs with
more examples and no seed, done by hand, found the 500 of `?network=` with a number no id can be.)
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from networks.models import Container
from portal.services import membership_set

pytestmark = pytest.mark.django_db

EXAMPLES = 6
SEED = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ASK_A_WORKER = {
    "GET /api/v1/networks/{id}/inspect/",
    "GET /api/v1/clusters/{id}/health/",
    "POST /api/v1/containers/{id}/diagnose/",
}
LEFT_OUT = ASK_A_WORKER | {"DELETE /api/v1/tokens/{id}/"}  # revoking would soon hit the run's own token


class InTransaction:
    """Django's WSGI application, keeping the test's database connection (as Django's test client does)."""

    handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def test_no_api_call_answers_500_or_off_schema(team, settings):
    settings.API_THROTTLE_RATE = "100000/minute"  # the throttle has its own tests
    team.network("web")
    team.container("db", status=Container.Status.EXITED)
    owner, key = team.users["owner"], team.keys["owner"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", InTransaction())
    headers = {"Authorization": f"Token {key}"}
    failures, calls = [], []

    def check(case):
        if (case.query or {}).get("wait") is not None:
            case.query["wait"] = 0  # no worker: waiting would only wait
        response = case.call(headers=headers)
        calls.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    operations = [result.ok() for result in schema.get_all_operations()]
    fuzzed = [operation for operation in operations if operation.label not in LEFT_OUT]
    for operation in fuzzed:
        membership_set(tenant=team.tenant, user=owner, role="owner")  # a PATCH or DELETE may have demoted them
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = seed(SEED)(given(operation.as_strategy(generation_mode=mode))(check))
            run = hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(run)
            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # every operation is tried; all failures are reported
                failures.append(f"{operation.label} ({mode.value}): {error}")
    print(f"api fuzz: {len(fuzzed)} of {len(operations)} operations, {len(calls)} calls, statuses {sorted(set(calls))}")
    assert len(fuzzed) >= 28 and len(calls) >= EXAMPLES * len(fuzzed)
    assert not failures, "\n\n".join(failures)
