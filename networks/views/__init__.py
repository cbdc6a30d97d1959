"""The portal's pages for networks, containers, operations, clusters and the dashboard.

Views stay thin: they read through the tenant-scoped selectors, parse input with forms, call
services and render. A service's refusal is shown on the form that asked, with what was typed.
"""
