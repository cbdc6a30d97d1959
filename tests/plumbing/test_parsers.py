"""plumbing/api/parsers.py: how deep a parsed body is, counted without recursion."""

import pytest

from plumbing.api.parsers import nested_deeper_than


@pytest.mark.parametrize(
    "data, depth",
    [
        ("text", 0),
        (7, 0),
        ([], 1),
        ({}, 1),
        ({"a": [1, {"b": "c"}]}, 3),
        ([[], [[[]]], {}], 4),
        ({"a": 1, "b": {"c": {"d": [None]}}}, 4),
    ],
)
def test_the_depth_is_the_most_lists_and_objects_one_value_is_inside(data, depth):
    assert not nested_deeper_than(data, depth)
    if depth:
        assert nested_deeper_than(data, depth - 1)


def test_a_value_100_000_levels_deep_is_told_at_once():
    data: list = []
    for _ in range(100_000):
        data = [data]
    assert nested_deeper_than(data, 32)
