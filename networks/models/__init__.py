from .allocation import AddressAllocation, SubnetAllocation
from .cluster import Cluster, ClusterGrant, Node, ReservedRange
from .container import Container, Endpoint
from .network import Network, NetworkShare
from .operation import Operation
from .registry import RegistryLogin

__all__ = [
    "AddressAllocation",
    "Cluster",
    "ClusterGrant",
    "Container",
    "Endpoint",
    "Network",
    "NetworkShare",
    "Node",
    "Operation",
    "RegistryLogin",
    "ReservedRange",
    "SubnetAllocation",
]
