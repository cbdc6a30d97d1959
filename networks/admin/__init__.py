"""The domain's admin: `clusters` (swarms, nodes, reserved ranges, grants) and `workloads` (networks,
allocations, containers, operations, registry logins). Importing them registers their ModelAdmins."""

from . import clusters, workloads  # noqa: F401  (registration happens on import)
