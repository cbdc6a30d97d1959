"""`field__any_of=[...]`: membership in a long list of values, as one parameter on PostgreSQL.

`__in` writes one placeholder per value: for a page of a thousand networks, Django prepares a
thousand values and psycopg parses and fills a query with a thousand placeholders, twice per page
(its containers, its shares). `= ANY(%s)` sends the list as one array. Other databases get `IN`.
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
        return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if values and all(type(value) is int for value in values):
            # Whole numbers (ids) as the array's text: psycopg adapts a list of a thousand ints value by
            # value (about 1 ms per query), the text in one go.
            array_type = self.lhs.output_field.cast_db_type(connection)
            return f"{lhs} = ANY(%s::{array_type}[])", [*lhs_params, "{" + ",".join(map(str, values)) + "}"]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]
