"""The OpenAPI schema says what every endpoint answers, errors included.

`PortalAutoSchema` adds to every operation the X-Tenant header and the error answers any view
can give (bad input, authentication, role, unknown id, throttling, the database away), all in the
one error shape. Views declare the rest with `extend_schema`.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from plumbing.api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Bad input: malformed JSON, an unknown field, a wrong type, or a value the portal refuses.",
    "401": "No credentials, or a token that is wrong or revoked.",
    "403": "Not a member of the tenant, or the role does not allow it.",
    "404": "No such object in this tenant (another tenant's object looks the same).",
    "409": "The request conflicts with the current state (name taken, pool full, still attached...).",
    "415": "The body is not application/json.",
    "422": "The Idempotency-Key was used before for a different request.",
    "429": "Too many requests for this token, or too many wrong tokens from this address; Retry-After says "
    "when to try again.",
    "503": "The portal's database is restarting or failing over (Retry-After says when to try again; a change sent "
    "without an Idempotency-Key may or may not have been made), no worker answered, or the cluster could not be reached.",
}
ALWAYS = ("400", "401", "403", "404", "429", "503")  # 503: a lost database connection (plumbing/database_retry.py)


def error(code: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])


def errors(*codes) -> dict:
    return {int(code): error(str(code)) for code in codes}


X_TENANT = OpenApiParameter(
    "X-Tenant",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The tenant's slug; without it, the user's first tenant (by name).",
)
OBJECT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The object's id.")


class PortalAutoSchema(AutoSchema):
    def get_override_parameters(self):
        extra = [X_TENANT] if getattr(self.view, "tenant_scoped", True) else []
        if "{id}" in self.path:
            extra.append(OBJECT_ID)
        return [*super().get_override_parameters(), *extra]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = list(ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(error(code), code, direction=direction)
        return dict(sorted(responses.items()))


def lib_doc_excludes() -> list:
    """The classes whose docstrings are no serializer's or view's description (SPECTACULAR_SETTINGS'
    GET_LIB_DOC_EXCLUDES): DRF's own, and RowSerializer, whose docstring says how rows are read, not what
    a serializer of them answers."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from plumbing.api.rows import RowSerializer

    return [*get_lib_doc_excludes(), RowSerializer]
