"""The audit log as CSV, for `?format=csv` and `/api/v1/audit/export.csv`."""

from __future__ import annotations

import json

from rest_framework.renderers import BaseRenderer

from portal.audit import audit_csv


class AuditCsvRenderer(BaseRenderer):
    """A list of entries becomes CSV; anything else (an error) stays in the API's JSON error shape."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if isinstance(data, list):
            if response is not None:
                response["Content-Disposition"] = 'attachment; filename="audit.csv"'
            return audit_csv(data)
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data)
