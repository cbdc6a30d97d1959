"""The REST mirror of the pages: `views/` per resource, `serializers/` per resource, `urls.py`, and the
schema's shared parts in `schema.py`."""
