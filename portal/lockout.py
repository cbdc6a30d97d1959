"""What a person locked out by django-axes sees: the portal's page with when to try again, not a bare 429."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: each refused try restarts the cool-off, so it ends a cool-off from now."""
    now = timezone.now()
    until = now + settings.AXES_COOLOFF_TIME
    context = {
        "until": until,
        "wait": timeuntil(until, now),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "admin": request.path.startswith("/admin/"),
    }
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
