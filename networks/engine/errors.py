class EngineError(Exception):
    """Docker refused an operation; `str()` is a sentence that tells the user what to do."""

    def __init__(self, message: str, *, code: str = "engine_error", raw: str = ""):
        super().__init__(message)
        self.code = code
        self.raw = raw


class ClusterUnavailable(EngineError):
    """A node's Docker API could not be reached. Transient: tasks retry with backoff."""

    def __init__(self, message: str = "", *, raw: str = ""):
        super().__init__(
            message
            or "The cluster cannot be reached right now; the portal keeps retrying. "
            "If this lasts, check that the cluster's nodes are up.",
            code="cluster_unavailable",
            raw=raw,
        )


class StateStoreUnavailable(ClusterUnavailable):
    """The cluster's Consul cannot be reached (Carina's "error getting pools config from store")."""

    def __init__(self, raw: str = ""):
        EngineError.__init__(
            self,
            "The cluster's state store (Consul) does not answer; the portal keeps retrying. If this lasts, "
            "check the cluster's Consul agents (the dashboard shows how many are up).",
            code="state_store_unavailable",
            raw=raw,
        )
