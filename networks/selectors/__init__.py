"""Tenant-scoped reads, one module per topic: another tenant's object looks exactly like a missing one.

Callers import from the module of their topic. This face hands on only the names that `networks.forms`
imports from here, while that module is being split into a package.
"""

from networks.selectors.clusters import cluster_list
from networks.selectors.networks import network_list, network_share_candidates

__all__ = ["cluster_list", "network_list", "network_share_candidates"]
