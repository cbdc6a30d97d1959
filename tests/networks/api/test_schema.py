"""The OpenAPI schema validates, and the live API keeps its word: schemathesis fuzzes every operation
against the portal's WSGI application, a real worker and the real local cluster, and finds no 500s and
no answer the schema does not describe. The requests commit (a transactional test), so the worker
does what they ask as it would for a live server's; they run in the test's thread on its database
connection, which spares each call an HTTP round and a new database connection (through a live server
the same 2,400 calls took 1.4 to 2 times as long).

Bounded: MAX_EXAMPLES per operation and mode (no shrinking), ?wait= clamped to WAIT_CAP seconds. Mutating calls are real
(networks are made on the cluster) and are swept away by `tenant_cluster`'s clean-up. Revoking a
token is left out of the fuzzing: hypothesis would soon hit the run's own token (tests in
test_auth.py cover it).
"""

import secrets

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.actors import Actor
from portal.services import api_token_create, membership_set
from tests.support import OnTheTestsConnection, first_team

MAX_EXAMPLES = 20
WAIT_CAP = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_schema_validates(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn`: no warning, no error."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/networks/{id}/inspect/" in (tmp_path / "schema.yaml").read_text()


@pytest.fixture
def owner_key(tenant_cluster) -> str:
    user = get_user_model().objects.create_user(username=f"fuzz-{secrets.token_hex(3)}")
    membership_set(tenant=first_team(tenant_cluster), user=user, role="owner")
    return api_token_create(actor=Actor.system("tests"), user=user, name="schemathesis")[1]


@pytest.mark.cluster
@pytest.mark.worker
def test_the_live_api_keeps_to_its_schema(celery_worker_process, tenant_cluster, owner_key):
    """Every operation, positive and negative inputs; the failures of all operations are reported together."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", OnTheTestsConnection())
    headers = {"Authorization": f"Token {owner_key}"}
    failures, calls = [], []

    def check(case):
        if isinstance((case.query or {}).get("wait"), (int, float)):
            case.query["wait"] = min(max(case.query["wait"], 0), WAIT_CAP)
        response = case.call(headers=headers)
        calls.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        if operation.label == "DELETE /api/v1/tokens/{id}/":
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = given(operation.as_strategy(generation_mode=mode))(check)
            run = settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(run)
            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # every operation is tried; all failures are reported
                failures.append(f"{operation.label} ({mode.value}): {error}")
    print(f"schemathesis: {len(operations)} operations, {len(calls)} calls, statuses {sorted(set(calls))}")
    assert len(operations) >= 30 and len(calls) > 20 * len(operations)
    assert not failures, "\n\n".join(failures)
