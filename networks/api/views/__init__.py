"""The REST mirror's viewsets, one module per resource; urls.py routes them.

Each is thin over the same selectors and services as the pages: a view checks the request's shape
with a serializer, finds objects through tenant-scoped selectors (what a body names, through
services/references.py), calls a service and answers. Refusals are the services' sentences in the
API's one error shape (plumbing/api/errors.py); calls that change the cluster answer 202 with the
operation (base.py).
"""
