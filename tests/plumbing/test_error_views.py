"""Django's own error answers under DEBUG off: in the API's `{"error": …}` shape under /api/, Django's
pages elsewhere (plumbing/api/error_views.py). Each request goes through the whole middleware stack."""

import pytest
from django.contrib.auth.views import LoginView
from django.test import Client

from networks.api.views import networks as api_views
from tests.apiclient import Api, assert_error
from tests.factories import Team, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db) -> Team:
    """A team with a token per role (tests/factories.py)."""
    return make_team("Errors", api=True)


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def unraised(api: Api) -> Api:
    api.client.raise_request_exception = False  # answer as the server would, not raise into the test
    return api


def test_a_bug_in_an_api_view_is_a_500_in_the_error_shape(team, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_views.NetworkViewSet, "list", broken)
    response = unraised(team.api()).get("networks/")
    assert response["Content-Type"] == "application/json"
    assert_error(
        response,
        500,
        "internal_error",
        field=None,
        message="The portal failed to answer this request; the error is logged for its operators. Try again, "
        "and tell them if it keeps failing.",
    )


def test_a_bug_in_a_page_is_still_the_html_page(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(LoginView, "get", broken)
    response = Client(raise_request_exception=False).get("/login/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    assert b'"error"' not in response.content


def test_an_oversize_body_is_a_413_in_the_error_shape(team, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = team.api().raw("post", "networks/", '{"name": "%s"}' % ("x" * 2000))
    assert_error(
        response,
        413,
        "request_too_large",
        field=None,
        message="The request body is larger than the portal accepts (1000 bytes). Send a smaller body.",
    )


def test_too_many_fields_is_a_400_in_the_error_shape(team, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    response = team.api().get("networks/?a=1&b=2&c=3&d=4")
    assert_error(
        response,
        400,
        "too_many_fields",
        message="The request has more fields than the portal accepts (3). Send fewer fields.",
    )


def test_a_host_the_portal_is_not_served_on_is_a_400_in_the_error_shape_for_the_api_only(team):
    response = team.api().get("networks/", headers={"Host": "evil.example"})
    assert_error(
        response,
        400,
        "bad_host",
        message="The Host header names a host this portal is not served on. Send the request to the portal's own address.",
    )
    page = Client().get("/login/", headers={"Host": "evil.example"})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_an_unknown_path_under_api_outside_v1_is_a_404_in_the_error_shape():
    response = Client().get("/api/v2/networks/")
    assert_error(
        response, 404, "not_found", message="There is no API endpoint at /api/v2/networks/. See /api/v1/docs/."
    )
    assert Client().get("/no-such-page/")["Content-Type"].startswith("text/html")
