"""How lists sort: natural order for names (cpu-a-2 before cpu-a-10), and the columns a list may be
sorted by, shared by a page's column headers and the API's `?ordering=`.

Natural order is the database's, through a collation named NATURAL, so that pages (LIMIT/OFFSET),
counts and the API's paging all agree and nothing extra is stored or kept in step on a rename. On
PostgreSQL it is the ICU collation `und-u-kn-true` (numeric runs compared as numbers), created by a
migration (networks 0014); on SQLite it is `natural_compare`, registered on every new connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.backends.signals import connection_created
from django.db.models import F
from django.db.models.expressions import OrderBy
from django.db.models.functions import Collate
from django.dispatch import receiver

NATURAL = "portal_natural"
# PostgreSQL's ICU locale: the root collation, numeric ordering on ("kn": the Unicode keyword).
NATURAL_ICU_LOCALE = "und-u-kn-true"
DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """`text` cut into runs of digits (compared as numbers) and of the rest (compared without case);
    the text itself last, so that two names differing only in case or leading zeros still have an order."""
    runs = DIGITS.split(text)
    return (tuple(int(run) if index % 2 else run.casefold() for index, run in enumerate(runs)), text)


def natural_compare(left: str, right: str) -> int:
    """SQLite's collation function: negative, zero or positive, as `left` sorts before, with or after `right`."""
    left_key, right_key = natural_key(left), natural_key(right)
    return (left_key > right_key) - (left_key < right_key)


@receiver(connection_created)
def register_natural_collation(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_collation(NATURAL, natural_compare)


def natural(field: str) -> Collate:
    """`field` in natural order, for order_by."""
    return Collate(F(field), NATURAL)


@dataclass(frozen=True)
class Sorting:
    """The columns a list may be sorted by: each public name's order expressions (`keys`), the terms it
    sorts by when asked for none (`default`) and what breaks ties (`tiebreak`, so pages never overlap).

    Terms are the API's: comma-separated names, a leading - reverses.
    """

    keys: dict
    default: tuple[str, ...]
    tiebreak: tuple[str, ...] = ("pk",)

    def terms(self, raw: str | None) -> list[str]:
        """The known terms of `raw`, in order; unknown ones are left out (the API refuses them first)."""
        terms = [term.strip() for term in (raw or "").split(",")]
        return [term for term in terms if term and term.lstrip("-") in self.keys]

    def unknown(self, raw: str | None) -> list[str]:
        terms = [term.strip() for term in (raw or "").split(",")]
        return [term for term in terms if term and term.lstrip("-") not in self.keys]

    def apply(self, queryset, raw: str | None):
        terms = self.terms(raw) or list(self.default)
        order = []
        for term in terms:
            descending = term.startswith("-")
            for expression in self.keys[term.lstrip("-")]:
                order.append(ordered(expression, descending))
        return queryset.order_by(*order, *self.tiebreak)

    def state(self, raw: str | None) -> dict:
        """What the column headers show: for each key, the aria-sort of its column (the first term's
        column alone sorts) and the ordering its link asks for (reversed when it already sorts)."""
        first = (self.terms(raw) or list(self.default))[0]
        columns = {}
        for key in self.keys:
            if first.lstrip("-") == key:
                descending = first.startswith("-")
                columns[key] = {
                    "aria": "descending" if descending else "ascending",
                    "next": key if descending else f"-{key}",
                }
            else:
                columns[key] = {"aria": "", "next": key}
        return columns


def ordered(expression, descending: bool) -> OrderBy:
    if isinstance(expression, str):
        expression = F(expression)
    return expression.desc() if descending else expression.asc()
