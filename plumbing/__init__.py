"""Plumbing every app of the portal shares and no app owns: the error a service raises and the API's
one error shape, form helpers, pages that keep themselves current, pagination and throttling.

It imports no app of the portal: `portal` (tenancy) builds on it, and `networks` on both.
"""
