"""Natural order (names with numbers compared as numbers) and the sort terms a list accepts."""

import sqlite3

from plumbing.sorting import NATURAL, Sorting, natural_compare, natural_key

NAMES = ["cpu-a-10", "cpu-a-2", "CPU-a-3", "cpu-a-1", "cpu-b", "cpu-a-02"]


def test_numbers_in_names_compare_as_numbers_and_case_is_ignored():
    assert sorted(NAMES, key=natural_key) == ["cpu-a-1", "cpu-a-02", "cpu-a-2", "CPU-a-3", "cpu-a-10", "cpu-b"]


def test_subnets_sort_by_their_numbers():
    subnets = ["10.0.10.0/24", "10.0.2.0/24", "10.1.0.0/16", "10.0.2.0/25"]
    assert sorted(subnets, key=natural_key) == ["10.0.2.0/24", "10.0.2.0/25", "10.0.10.0/24", "10.1.0.0/16"]


def test_the_sqlite_collation_orders_rows_naturally():
    db = sqlite3.connect(":memory:")
    db.create_collation(NATURAL, natural_compare)
    db.execute("CREATE TABLE n (name TEXT)")
    db.executemany("INSERT INTO n VALUES (?)", [(name,) for name in NAMES])
    rows = [row[0] for row in db.execute(f"SELECT name FROM n ORDER BY name COLLATE {NATURAL}")]
    assert rows == ["cpu-a-1", "cpu-a-02", "cpu-a-2", "CPU-a-3", "cpu-a-10", "cpu-b"]
    assert natural_compare("a-2", "a-2") == 0


SORTING = Sorting(keys={"name": ("name",), "created": ("created",)}, default=("name",))


def test_unknown_terms_are_left_out_and_a_stray_comma_is_harmless():
    assert SORTING.terms("-created, nonsense,,name") == ["-created", "name"]
    assert SORTING.unknown("-created,nonsense,-bogus") == ["nonsense", "-bogus"]
    assert SORTING.terms(None) == []


def test_the_sorted_column_says_its_direction_and_its_link_reverses_it():
    assert SORTING.state("") == {
        "name": {"aria": "ascending", "next": "-name"},
        "created": {"aria": "", "next": "created"},
    }
    assert SORTING.state("-created,name") == {
        "name": {"aria": "", "next": "name"},
        "created": {"aria": "descending", "next": "created"},
    }
