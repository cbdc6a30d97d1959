"""The admin's inputs that Django leaves unnamed get a name: inline cells by column and row, date and time
boxes by their field."""

import pytest

from portal.admin_labels import LabelledSplitDateTime
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_date_and_time_boxes_are_named_after_their_field():
    html = LabelledSplitDateTime(label="Last login").render("last_login", None, {"id": "id_last_login"})
    assert 'aria-label="Last login: date"' in html and 'id="id_last_login_0"' in html
    assert 'aria-label="Last login: time"' in html and 'id="id_last_login_1"' in html


def test_inline_cells_are_named_by_their_column_and_row(client, team):
    client.force_login(make_staff("root"))
    page = client.get(f"/admin/portal/tenant/{team.tenant.pk}/change/").content.decode()
    membership = team.tenant.memberships.order_by("pk").first()
    assert f'aria-label="Role: {membership}"' in page and f'aria-label="Delete: {membership}"' in page
    assert 'aria-label="Role: new row"' in page  # the empty row "Add another" copies
    page = client.get(f"/admin/auth/user/{team.owner.pk}/change/").content.decode()
    assert 'aria-label="Date joined: date"' in page
