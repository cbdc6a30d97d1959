from .allocation import AddressAllocation, SubnetAllocation
from .cluster import Cluster, Node, ReservedRange
from .network import Network

__all__ = ["AddressAllocation", "Cluster", "Network", "Node", "ReservedRange", "SubnetAllocation"]
