"""Thin adapters to the cluster's Docker engines and Consul.

Nothing outside `networks.services` (and the tests of these modules) imports them: services
decide, adapters only talk. Adapters translate transport failures into `ClusterUnavailable`
(worth retrying) and Docker's raw errors into `EngineError` sentences (not worth retrying).
"""

from .errors import ClusterUnavailable, EngineError, StateStoreUnavailable

__all__ = ["ClusterUnavailable", "EngineError", "StateStoreUnavailable"]
