"""Every answer carries a Content-Security-Policy that allows nothing inline, and no template needs it to:
no inline <script>, event attribute, <style> or style attribute (the browser test checks the pages run)."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response) -> dict[str, str]:
    directives = [part.strip() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: value for name, _, value in (directive.partition(" ") for directive in directives)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/login/", "/", "/networks/", "/tokens/", "/admin/", "/api/v1/docs/", "/api/v1/networks/", "/no-such-page/"],
)
def test_every_answer_has_the_policy(client, team, path):
    client.force_login(get_user_model().objects.create_superuser("root", password="root-pw-for-tests"))
    assert policy_of(client.get(path)) == POLICY


def test_an_api_error_and_an_anonymous_page_have_it_too():
    client = Client()
    assert policy_of(client.get("/api/v1/networks/")) == POLICY  # 401
    assert policy_of(client.get("/login/")) == POLICY


@pytest.mark.django_db
def test_swagger_ui_loads_its_script_from_a_url_and_has_no_inline_style(client):
    page = client.get("/api/v1/docs/").content.decode()
    assert "<style" not in page and "<script>" not in page
    script = re.search(r'<script src="([^"]*\?script=[^"]*)"', page)
    assert script, page
    answer = client.get(script.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in answer.content


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event attribute (on...=)"),
    (re.compile(r"<style\b", re.I), "a <style>"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\shx-on", re.I), "an hx-on attribute (htmx evals it)"),
]


def test_no_template_has_anything_inline():
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []
