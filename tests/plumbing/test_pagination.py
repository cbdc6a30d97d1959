"""The API's pages are Django's, page for page, and a first page that is the only one is counted from its own
rows."""

import pytest
from django.core.paginator import InvalidPage, Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plumbing.api.pagination import LastPageCounted, Pagination
from portal.models import Tenant
from portal.services import tenant_create
from tests.factories import make_team


def outcome(paginator: Paginator, number):
    try:
        page = paginator.page(number)
    except InvalidPage as error:
        return type(error)
    return list(page), page.number, paginator.count, paginator.num_pages, page.has_next(), page.has_previous()


@pytest.mark.parametrize("total", [0, 1, 9, 10, 11, 25, 30])
@pytest.mark.parametrize(
    "number", [1, "1", 1.0, True, 2, 3, 4, "2", "3", "x", "", None, 0, "0", -1, "1.5", 2.0, 2.5, 10**30]
)
def test_every_page_is_djangos(total, number):
    rows = list(range(total))
    assert outcome(LastPageCounted(rows, 10), number) == outcome(Paginator(rows, 10), number)


@pytest.mark.django_db
def test_the_only_page_reads_no_count():
    for i in range(12):
        tenant_create(name=f"Team {i:02}")
    teams = Tenant.objects.order_by("name")
    total = teams.count()
    with CaptureQueriesContext(connection) as queries:
        paginator = LastPageCounted(teams, total)
        only = paginator.page("1")
        assert (len(only), paginator.count, paginator.num_pages, only.has_next()) == (total, total, 1, False)
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        paginator = LastPageCounted(teams, total - 2)
        last = paginator.page(2)
        assert (len(last), paginator.count, paginator.num_pages) == (2, total, 2)
    assert len(queries) == 2  # the count, then the rows, as Django reads them
    with CaptureQueriesContext(connection) as queries:
        paginator = LastPageCounted(teams, total - 2)
        first = paginator.page(1)
        assert (len(first), paginator.count, first.has_next()) == (total - 2, total, True)
    assert len(queries) == 2  # the rows, then the count


@pytest.mark.parametrize(
    ("page", "why"), [("2", "That page contains no results"), ("x", "That page number is not an integer")]
)
def test_a_page_that_is_not_there_says_which_why_and_what_to_ask_for(api_team, page, why):
    answer = api_team.api("member").get(f"/api/v1/networks/?page={page}")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == (
        f"There is no page {page} of this list: {why}. Ask for page 1, then follow each answer's `next` link."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("asked", "size"),
    [(None, 50), ("", 50), ("1", 1), ("007", 7), ("1000", 1000), ("1001", 1000), ("9" * 5000, 1000)],
)
def test_a_page_size_is_a_whole_number_from_1_and_the_largest_page_caps_it(asked, size):
    team = make_team("Pages", api=True)
    answer = team.api().get("networks/", {} if asked is None else {"page_size": asked})
    assert answer.status_code == 200, answer.content
    assert answer.json()["count"] == 0
    assert Pagination().get_page_size(_Asked(asked)) == size


@pytest.mark.django_db
@pytest.mark.parametrize("asked", ["abc", "0", "000", "-1", "1.5", " 5", "٣", "1e3"])
def test_a_page_size_that_is_not_one_is_refused_with_what_to_send(asked):
    answer = make_team("Pages", api=True).api().get("networks/", {"page_size": asked})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("bad_page_size", "page_size")
    assert error["message"] == (
        f'"{asked}" is not a page size: use a whole number from 1 to 1000, or leave page_size out for pages of 50.'
    )


class _Asked:
    def __init__(self, asked):
        self.query_params = {} if asked is None else {"page_size": asked}
