from .allocation import AddressAllocation, SubnetAllocation
from .cluster import Cluster, Node, ReservedRange
from .container import Container, Endpoint
from .network import Network
from .operation import Operation

__all__ = [
    "AddressAllocation",
    "Cluster",
    "Container",
    "Endpoint",
    "Network",
    "Node",
    "Operation",
    "ReservedRange",
    "SubnetAllocation",
]
