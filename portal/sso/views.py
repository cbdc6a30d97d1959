"""The sign-in with the provider: the start (mozilla-django-oidc's authorization request, with state,
nonce and PKCE), the callback, sign-out (at the provider too, when it offers an end-session endpoint),
and the pages that say what went wrong. Nothing here answers a 500: every fault is a page with a
sentence and the way back to the login page, where local sign-in stays offered.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib import auth, messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from plumbing.errors import ServiceError

from ..selectors import owner_names
from . import provider
from .backend import SsoBackend
from .services import no_team
from .tokens import InvalidIdToken

logger = logging.getLogger(__name__)
BACKEND = "portal.sso.backend.SsoBackend"


def sso_problem(request, title: str, message: str, status: int, **context):
    """The page every refused or failed sign-in ends on."""
    staff_only = settings.LOCAL_LOGIN == "staff-only"
    local = "Staff sign in there with their password." if staff_only else "A password of this portal works there too."
    context = {"title": title, "message": message, "local_login": local, **context}
    return render(request, "registration/sso_problem.html", context, status=status)


class SsoStartView(OIDCAuthenticationRequestView):
    """To the provider's authorization endpoint, found in its discovery document."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider.metadata()["authorization_endpoint"]
        except provider.ProviderUnavailable as error:
            return sso_problem(request, "The identity provider did not answer", error.message, 503)
        return super().get(request)


def sso_callback(request):
    """The provider sends the browser back here with a code and the state the start put in the session."""
    if not settings.OIDC_ENABLED:
        raise Http404("Single sign-on is not configured.")
    state, code = request.GET.get("state", ""), request.GET.get("code", "")
    states = request.session.get("oidc_states")
    states = states if isinstance(states, dict) else {}
    pending = states.pop(state, None)  # used once: a replayed callback finds nothing
    request.session["oidc_states"] = states
    if request.GET.get("error"):
        reason = request.GET.get("error_description") or request.GET.get("error")
        return sso_problem(
            request, "You were not signed in", f"{capfirst(settings.OIDC_LABEL)} said: {reason[:300]}.", 403
        )
    if pending is None or not code:
        return sso_problem(
            request,
            "This sign-in cannot be finished",
            "This sign-in link was already used, has expired, or was not started from this browser. "
            "Start again from the login page.",
            400,
        )
    backend = SsoBackend()
    try:
        user = backend.authenticate(
            request, sso_nonce=pending.get("nonce") or "", sso_code_verifier=pending.get("code_verifier")
        )
    except provider.ProviderUnavailable as error:
        return sso_problem(request, "The identity provider did not answer", error.message, 503)
    except InvalidIdToken as error:
        logger.warning("single sign-on refused: %s", error)
        return sso_problem(request, "The sign-in could not be trusted", str(error), 400)
    except requests.RequestException as error:
        return sso_problem(
            request, "The identity provider did not answer", provider.provider_unavailable(str(error)).message, 503
        )
    except ServiceError as error:
        if error.code == "no_team":
            return no_team_page(request, error.message, removed_from=())
        return sso_problem(request, "You were not signed in", error.message, error.http_status)
    sign_in = backend.sign_in
    if user is None or sign_in is None:
        return sso_problem(
            request, "You were not signed in", "The provider's answer was incomplete. Sign in again.", 400
        )
    if not sign_in.has_team and not user.is_staff:
        return no_team_page(request, no_team(user.get_username()).message, removed_from=sign_in.removed_from)
    # Signing in as someone else than the session's user empties the session: keep what the sign-in needs.
    id_token, next_url = request.session.get("oidc_id_token"), _next_url(request)
    request.session.pop(NO_TEAM, None)  # an earlier refusal of this browser is over
    auth.login(request, user, backend=BACKEND)
    if id_token:
        request.session["oidc_id_token"] = id_token
    if sign_in.created and user.get_username() != sign_in.wanted_username:
        messages.info(
            request,
            f"The name {sign_in.wanted_username} belongs to another account here, so yours is {user.get_username()}.",
        )
    for tenant in sign_in.removed_from:
        messages.warning(request, f"You are no longer in {tenant.name}: your groups no longer give it.")
    return HttpResponseRedirect(next_url)


NO_TEAM = "sso_no_team"  # the session's key for what the no-team page says


def no_team_page(request, message: str, removed_from):
    """To the no-team page, at an address of its own: a reload shows it again, where the callback's address
    would send the used code again and say the sign-in cannot be finished."""
    owners = {tenant.name: list(owner_names(tenant=tenant)) for tenant in removed_from}
    request.session[NO_TEAM] = {"message": message, "owners": owners}
    return HttpResponseRedirect(reverse("sso_no_team"))


def sso_no_team(request):
    """What the last sign-in of this browser was refused for; the login page when it was refused nothing."""
    said = request.session.get(NO_TEAM)
    if not settings.OIDC_ENABLED or not isinstance(said, dict):
        return HttpResponseRedirect(reverse("login"))
    context = {"message": said.get("message", ""), "owners": said.get("owners") or {}}
    return render(
        request, "registration/sso_no_team.html", {**context, "contact": settings.OIDC_HELP_CONTACT}, status=403
    )


def _next_url(request) -> str:
    target = request.session.pop("oidc_login_next", None)
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@require_POST
def logout_view(request):
    """End the portal's session, then the provider's when the user came through it and it offers an
    end-session endpoint (the browser comes back to the login page)."""
    came_by_sso = request.session.get(auth.BACKEND_SESSION_KEY) == BACKEND
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    after = request.build_absolute_uri(reverse("login"))
    if came_by_sso and settings.OIDC_ENABLED:
        url = provider.end_session_url(id_token=id_token, after=after)
        if url:
            return HttpResponseRedirect(url)
    return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))
