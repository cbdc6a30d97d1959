"""Classes named in settings.REST_FRAMEWORK: kept apart from base.py, which imports DRF's views."""

from django.conf import settings
from rest_framework.pagination import PageNumberPagination
from rest_framework.throttling import UserRateThrottle


class TokenRateThrottle(UserRateThrottle):
    """Per token (per user for the session): the rate is API_THROTTLE_RATE, read on every request."""

    scope = "user"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "key_hash"):
            return self.cache_format % {"scope": "token", "ident": token.pk}
        return super().get_cache_key(request, view)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
