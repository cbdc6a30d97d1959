"""Tenant-scoped reads, one module per topic: another tenant's object looks exactly like a missing one.
Import from the module of the topic."""
