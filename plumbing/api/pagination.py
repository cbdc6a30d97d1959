"""The API's pages (settings.REST_FRAMEWORK's pagination class): Django's paginator, without its count query
for a list that fits its first page."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from rest_framework.pagination import PageNumberPagination

from plumbing.errors import ServiceError


class LastPageCounted(Paginator):
    """Django's Paginator, without its count query when the first page is the only one (a list that fits one
    page, such as every network of a team in one call, or the operations a script polls by id): one row
    past the page is read, and when none is there, the count is the rows on the page, from the same query.
    Any other page is counted (and a page past the end refused) first, as Django does."""

    def page(self, number):
        if number not in (1, "1") or self.orphans or "count" in self.__dict__:
            return super().page(number)
        rows = list(self.object_list[: self.per_page + 1])
        if len(rows) > self.per_page:  # more after it: the count says how many pages
            return Page(rows[: self.per_page], self.validate_number(1), self)
        self.__dict__["count"] = len(rows)  # Paginator.count is a cached_property
        return Page(rows, 1, self)


class Pagination(PageNumberPagination):
    django_paginator_class = LastPageCounted
    page_size_query_param = "page_size"
    max_page_size = 1000  # every network of a busy tenant in one call, as `docker network ls` answers
    # DRF's own is "Invalid page.": say which page, why (Django's sentence), and what to ask for instead.
    invalid_page_message = (
        "There is no page {page_number} of this list: {message}. Ask for page 1, then follow each answer's `next` link."
    )

    def get_page_size(self, request):
        """`?page_size=` as a whole number from 1, or left out or blank: DRF answered a page of 50 to `abc`, `0`
        and `-1`, saying nothing. Above `max_page_size`, the largest page, whose `next` link leads on."""
        asked = request.query_params.get(self.page_size_query_param, "")
        if not asked:  # left out, or blank as a filter left blank
            return self.page_size
        if not (asked.isascii() and asked.isdigit()) or not asked.strip("0"):
            shown = asked if len(asked) <= 40 else asked[:40] + "…"
            raise ServiceError(
                "bad_page_size",
                f'"{shown}" is not a page size: use a whole number from 1 to {self.max_page_size}, or leave '
                f"page_size out for pages of {self.page_size}.",
                field=self.page_size_query_param,
            )
        digits = asked.lstrip("0")
        return self.max_page_size if len(digits) > 6 else min(int(digits), self.max_page_size)
