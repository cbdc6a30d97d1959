from .cluster import Cluster, Node, ReservedRange

__all__ = ["Cluster", "Node", "ReservedRange"]
