"""The REST API tests' client (a user's token, X-Tenant) and the check of the API's one error shape.

Teams with a token per role are made by tests/factories.py (`make_team(name, api=True)`).
"""

from __future__ import annotations

from rest_framework.test import APIClient


class Api:
    """A DRF test client that sends a user's token and, when given, X-Tenant."""

    def __init__(self, key: str | None = None, tenant: str | None = None):
        self.client = APIClient()
        if key:
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.headers = {"X-Tenant": tenant} if tenant else {}

    def _call(self, method, path, data=None, headers=None, **kwargs):
        url = path if path.startswith(("/", "http")) else f"/api/v1/{path}"
        call = getattr(self.client, method)
        return call(url, data, format="json", headers={**self.headers, **(headers or {})}, **kwargs)

    def get(self, path, params=None, **kwargs):
        return self._call("get", path, params, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self._call("post", path, data, **kwargs)

    def patch(self, path, data=None, **kwargs):
        return self._call("patch", path, data, **kwargs)

    def delete(self, path, **kwargs):
        return self._call("delete", path, **kwargs)

    def raw(self, method, path, body: bytes | str, content_type="application/json", **kwargs):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return getattr(self.client, method)(url, body, content_type=content_type, headers=self.headers, **kwargs)


def assert_error(response, status: int, code: str | None = None, field: str | None = ..., message: str | None = None):
    """The one error shape: {"error": {"code", "message", "field"}}."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    if field is not ...:
        assert body["error"]["field"] == field, body
    if message is not None:
        assert body["error"]["message"] == message, body
    return body["error"]
