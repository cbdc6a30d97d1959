"""Which tenant a request acts for, and what the user may do there.

The tenant comes from the `X-Tenant` header (API scripts), else the session (the tenant
switcher), else the user's first membership. Views and API permissions ask `can_change` /
`can_manage` here, so UI and API apply the same roles. A team token's only membership is its team,
with its role (`portal.team_token_user.TeamTokenUser`): it reaches no other team, whatever X-Tenant says.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render, resolve_url
from django.utils.functional import SimpleLazyObject
from django_htmx.http import HttpResponseClientRedirect

from . import identity_cache
from .models import Membership
from .team_token_user import TeamTokenUser

SESSION_KEY = "tenant_id"


def membership_for_request(request) -> Membership | None:
    """The membership a request acts in, read once per request and user (the middleware and the API's
    permission both ask; the API's token user is known only after the middleware)."""
    user = getattr(request, "user", None)
    key = ("team-token", user.token.pk) if isinstance(user, TeamTokenUser) else getattr(user, "pk", None)
    cached = request.__dict__.get("_membership")
    if cached is None or cached[0] != key:
        cached = request.__dict__["_membership"] = (key, _membership_for(request))
    return cached[1]


def _membership_for(request) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if isinstance(user, TeamTokenUser):
        slug = request.headers.get("X-Tenant")
        return user.membership if not slug or slug == user.token.tenant.slug else None
    slug = request.headers.get("X-Tenant")
    tenant_id = None if slug else request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    # The membership may come from this process's memory (portal/identity_cache.py), under the generation
    # read before any row of it.
    generation = auth_generation(request)
    key = (user.pk, slug, tenant_id)
    membership = identity_cache.membership_get(key, generation)
    if membership is identity_cache.MISSING:
        membership = _membership_read(user, slug, tenant_id)
        identity_cache.membership_put(key, generation, membership)
    return membership


def auth_generation(request) -> int | None:
    """The auth generation a request's identities from memory are tagged with: a token's request read it
    with its token; a signed-in person's reads it once, when first asked."""
    auth = request.__dict__.get("_auth")
    if auth is not None and hasattr(auth, "auth_generation"):
        return auth.auth_generation
    if "_auth_generation" not in request.__dict__:
        request.__dict__["_auth_generation"] = identity_cache.generation_read()
    return request.__dict__["_auth_generation"]


def user_memberships(request) -> tuple:
    """The signed-in user's memberships with their tenants (the tenant switcher), from memory when kept."""
    generation = auth_generation(request)
    memberships = identity_cache.memberships_get(request.user.pk, generation)
    if memberships is identity_cache.MISSING:
        memberships = tuple(Membership.objects.filter(user=request.user).select_related("tenant"))
        identity_cache.memberships_put(request.user.pk, generation, memberships)
    return memberships


def _membership_read(user, slug: str | None, tenant_id) -> Membership | None:
    memberships = Membership.objects.filter(user=user).select_related("tenant")
    if slug:
        return memberships.filter(tenant__slug=slug).first()
    if tenant_id:
        membership = memberships.filter(tenant_id=tenant_id).first()
        if membership:
            return membership
    return memberships.order_by("tenant__name").first()


def tenant_switch(request, *, tenant_id: int) -> Membership:
    membership = Membership.objects.filter(user=request.user, tenant_id=tenant_id).select_related("tenant").first()
    if membership is None:
        raise PermissionDenied("You are not a member of that tenant.")
    request.session[SESSION_KEY] = membership.tenant_id
    return membership


class CurrentTenantMiddleware:
    """Sets `request.membership` and `request.tenant` (None when the user has no tenant)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = membership_for_request(request)
        request.tenant = request.membership.tenant if request.membership else None
        return self.get_response(request)


def require_change(request) -> None:
    """Members and owners change things; viewers only read."""
    if request.membership is None or not request.membership.can_change:
        raise PermissionDenied("Your role in this tenant is read-only. Ask an owner to make you a member.")


OWNERS_ONLY = "Only the tenant's owners can manage members and policies."


def require_manage(request, refusal: str = OWNERS_ONLY) -> None:
    """Owners only; `refusal` says what only they may do, when it is more than members and policies."""
    if request.membership is None or not request.membership.can_manage:
        raise PermissionDenied(refusal)


def _login_first(request, page, *args, **kwargs):
    """An anonymous request goes to the login form. A page left open after its session ended keeps polling:
    those htmx requests send the whole page to the login form rather than swapping a login form into a row."""
    if getattr(request, "htmx", False):
        back = urlencode({"next": request.htmx.current_url_abs_path or "/"})
        return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{back}")
    return page(request, *args, **kwargs)


def tenant_required(view):
    """Log in first; a user in no tenant yet gets a page that says whom to ask, not an error."""
    page = login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _login_first(request, page, *args, **kwargs)
        if request.tenant is None:
            return render(request, "portal/no_tenant.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


STAFF_ONLY = "Only the portal's staff may do this. Ask an admin."


def staff_required(view):
    """Log in first; then staff only (a 403 that says so), whichever team the user is in, if any."""
    page = login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _login_first(request, page, *args, **kwargs)
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied(STAFF_ONLY)
        return view(request, *args, **kwargs)

    return wrapper


def tenancy(request) -> dict:
    """Template context: the current membership, the user's others (the tenant switcher) and the role's rights."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"membership": None, "can_change": False, "can_manage": False}
    return {
        "membership": membership,
        "switchable_memberships": SimpleLazyObject(lambda: user_memberships(request)),
        "can_change": membership.can_change,
        "can_manage": membership.can_manage,
    }
