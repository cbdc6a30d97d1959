"""The API's orjson renderer answers the bytes DRF's JSONRenderer answers."""

import datetime
import decimal
import json
import uuid

from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from plumbing.api.renderers import OrjsonRenderer

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.text(),
    st.sampled_from(["\u2028", "a\u2029b", "é", "\x00", '"\\/', "</script>"]),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.dates(),
    st.times(),
    st.uuids(),
    st.timedeltas(),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=4),
    ),
    max_leaves=20,
)


NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False), st.decimals(allow_nan=False, allow_infinity=False)
)


@given(data=DATA)
def test_the_same_bytes_as_drf(data):
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)


@given(data=st.lists(st.one_of(NUMBERS, DATA), max_size=5))
def test_the_same_numbers_as_drf(data):
    """Fractions (which the API answers as strings) may be written another way, never as another number."""
    assert json.loads(OrjsonRenderer().render(data)) == json.loads(JSONRenderer().render(data))


def test_what_orjson_does_not_encode_is_encoded_as_drf_encodes_it():
    values = {
        "lazy": gettext_lazy("Not found."),
        "big": 2**70,
        "time": datetime.datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=datetime.UTC),
        "money": decimal.Decimal("1.10"),
        "id": uuid.UUID(int=1),
        "set": frozenset([1]),
    }
    assert OrjsonRenderer().render(values) == JSONRenderer().render(values)
    assert b'"2026-11-27T01:02:03.456789Z"' in OrjsonRenderer().render(values)


def test_pretty_printing_and_nothing_as_drf():
    data = {"a": [1, 2]}
    pretty = OrjsonRenderer().render(data, "application/json; indent=2")
    assert pretty == JSONRenderer().render(data, "application/json; indent=2") and b"\n" in pretty
    assert OrjsonRenderer().render(None) == b""
