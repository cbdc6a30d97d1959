"""`field__any_of=[...]` or `field__any_of=<queryset>`: membership in a long list of values, or in a
subquery's, as one array on PostgreSQL.

`__in` writes one placeholder per value: for a page of a thousand networks, Django prepares a
thousand values and psycopg parses and fills a query with a thousand placeholders, twice per page
(its containers, its shares). `= ANY(%s)` sends the list as one array. A subquery becomes
`= ANY(ARRAY(subquery))`: PostgreSQL runs it once, before the scan, and can then combine it with an
index in an OR (`tenant_id = 1 OR id = ANY(...)` reads two indexes; `OR id IN (subquery)` reads
every row of the table). Other databases get `IN`.
"""

from __future__ import annotations

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In


@ForeignObject.register_lookup  # relations keep their own lookups, apart from Field's
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # the list is one value: an array

    def as_sql(self, compiler, connection):
        return In(self.lhs, self.rhs if self._subquery() else list(self.rhs)).as_sql(compiler, connection)

    def _subquery(self) -> bool:
        return hasattr(self.rhs, "as_sql")  # a queryset, resolved by the filter into a query

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if self._subquery():
            self.rhs.clear_ordering(clear_default=True)  # as `In` does: an order costs joins and changes nothing
            subquery, subquery_params = compiler.compile(self.rhs)
            subquery = subquery if subquery.startswith("(") else f"({subquery})"
            return f"{lhs} = ANY(ARRAY{subquery})", [*lhs_params, *subquery_params]
        values = list(self.rhs)
        if values and all(type(value) is int for value in values):
            # Whole numbers (ids) as the array's text: psycopg adapts a list of a thousand ints value by
            # value (about 1 ms per query), the text in one go.
            array_type = self.lhs.output_field.cast_db_type(connection)
            return f"{lhs} = ANY(%s::{array_type}[])", [*lhs_params, "{" + ",".join(map(str, values)) + "}"]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]
