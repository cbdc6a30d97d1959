"""The refusal every service raises, and how the pages and the API answer it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.http import Http404

T = TypeVar("T")


class ServiceError(Exception):
    """A refusal the user can act on: `message` is the sentence, `field` the form field when there is one,
    `item` the position in that field's list (an environment variable) when it is about one of its items.

    `http_status` is what the API answers with: 400 for bad input, 403 for a right the user lacks,
    404 for what the user may not see, 409 for a state conflict.
    """

    http_status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        item: int | None = None,
        http_status: int | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.item = item
        if http_status is not None:
            self.http_status = http_status

    def __reduce__(self):
        # A worker's refusal crosses processes (Celery pickles what a task raised before its failure
        # handler sees it): without this it arrives as an unpickleable wrapper and reads as an
        # unexpected failure, not as the sentence it is.
        return (_revived, (type(self), self.args, self.__dict__))


def _revived(cls: type[ServiceError], args: tuple, state: dict) -> ServiceError:
    error = cls.__new__(cls, *args)  # not __init__: the state is restored as it was, whatever its signature
    error.args = args
    error.__dict__.update(state)
    return error


# Everything a view or serializer turns into a message for the user, never into a 500.
USER_ERRORS = (ServiceError,)


def http_status_of(error: Exception) -> int:
    return getattr(error, "http_status", 400)


def not_found(noun: str, *, field: str | None = None) -> ServiceError:
    """The one refusal for what does not exist or may not be seen: another tenant's looks the same."""
    return ServiceError("not_found", f"No such {noun}.", field=field, http_status=404)


def found(select: Callable[..., T], noun: str, *, field: str | None = None, **lookup) -> T:
    """`select(**lookup)`, a selector that raises Http404 for a missing or foreign object; that 404 is
    answered as `not_found(noun)`, at `field` when the id came in a request's body.

    The one place an Http404 turns into another error (the API's viewsets and the lookups of what a
    request names all come here), so every such refusal reads the same."""
    try:
        return select(**lookup)
    except Http404:
        raise not_found(noun, field=field) from None
