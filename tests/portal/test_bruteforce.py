"""Guessing passwords is stopped by django-axes: after LOGIN_FAILURE_LIMIT failures for a user or from an
address, the portal's login and the admin's refuse with a page that says when to try again; staff
unlock in the admin. Each test's failures are rows in its own transaction."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def fail(client, path: str, username: str, times: int, address: str = "203.0.113.7"):
    for _ in range(times):
        response = client.post(path, {"username": username, "password": "wrong-guess"}, REMOTE_ADDR=address)
    return response


def test_failed_logins_lock_the_user_out_with_when_to_try_again(client, team, settings):
    limit = settings.AXES_FAILURE_LIMIT
    before = fail(client, "/login/", team.member.username, limit - 1)
    assert before.status_code == 200 and b"didn&#x27;t match" in before.content
    locked = fail(client, "/login/", team.member.username, 1)
    page = locked.content.decode()
    assert locked.status_code == 429 and "<title>Too many failed logins · Overlay Portal</title>" in page
    assert f"after {limit} failed tries. Try again after " in page and " UTC (in 15" in page
    assert 'class="topbar"' in page  # the portal's own page, not a bare text
    # The right password does not help now, from this address or another one (the user is locked).
    right = {"username": team.member.username, "password": PASSWORD}
    assert client.post("/login/", right, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert client.post("/login/", right, REMOTE_ADDR="198.51.100.9").status_code == 429
    assert client.get("/").status_code == 302  # not logged in


def test_failures_from_one_address_lock_that_address_whatever_the_username(client, team, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "/login/", f"nobody-{number}", 1)
    right = {"username": team.owner.username, "password": PASSWORD}
    assert client.post("/login/", right, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert client.post("/login/", right, REMOTE_ADDR="198.51.100.9").status_code == 302  # another address


def test_the_admin_login_is_locked_too_and_staff_unlock_in_the_admin(client, team, settings):
    staff = get_user_model().objects.create_superuser("ops", password="ops-admin-pw")
    locked = fail(client, "/admin/login/", team.member.username, settings.AXES_FAILURE_LIMIT)
    assert locked.status_code == 429 and b"Try again after" in locked.content

    client.force_login(staff)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and team.member.username.encode() in listing.content
    attempt = AccessAttempt.objects.get(username=team.member.username)
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    client.logout()

    response = client.post(
        "/login/", {"username": team.member.username, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 302 and client.get("/").status_code == 200


def test_a_success_before_the_limit_forgets_the_failures(client, team, settings):
    fail(client, "/login/", team.member.username, settings.AXES_FAILURE_LIMIT - 1)
    right = {"username": team.member.username, "password": PASSWORD}
    assert client.post("/login/", right, REMOTE_ADDR="203.0.113.7").status_code == 302
    client.logout()
    assert fail(client, "/login/", team.member.username, settings.AXES_FAILURE_LIMIT - 1).status_code == 200
