from .allocation import AddressAllocation, SubnetAllocation
from .cluster import Cluster, ClusterGrant, Node, ReservedRange
from .container import Container, ContainerQuerySet, Endpoint
from .network import Network, NetworkQuerySet, NetworkShare, NetworkTag
from .operation import Operation, OperationQuerySet
from .registry import RegistryLogin

__all__ = [
    "AddressAllocation",
    "Cluster",
    "ClusterGrant",
    "Container",
    "ContainerQuerySet",
    "Endpoint",
    "Network",
    "NetworkQuerySet",
    "NetworkShare",
    "NetworkTag",
    "Node",
    "Operation",
    "OperationQuerySet",
    "RegistryLogin",
    "ReservedRange",
    "SubnetAllocation",
]
