from networks import ipam


class ServiceError(Exception):
    """A refusal the user can act on: `message` is the sentence, `field` the form field when there is one.

    `http_status` is what the API answers with: 400 for bad input, 409 for a state conflict.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None, http_status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.http_status = http_status


# Everything a view or serializer turns into a message for the user, never into a 500.
USER_ERRORS = (ServiceError, ipam.IpamError)


def http_status_of(error: Exception) -> int:
    if isinstance(error, ipam.PoolExhausted):
        return 409
    return getattr(error, "http_status", 400)


def worker_failure_sentence(error: BaseException) -> str:
    """What to tell a user when a question sent to a worker (inspect, diagnostics) got no usable answer."""
    from celery.exceptions import TimeoutError as WorkerTimeout
    from kombu.exceptions import OperationalError as BrokerDown

    from networks.engine import EngineError

    if isinstance(error, USER_ERRORS):
        return error.message
    if isinstance(error, WorkerTimeout):
        return "The portal's worker did not answer in time. The cluster may be busy: try again in a moment."
    if isinstance(error, BrokerDown):
        return "The portal cannot reach its task queue right now, so no worker can ask the cluster. Try again later."
    if isinstance(error, EngineError):
        return str(error)
    return "The cluster could not be asked just now. Try again; if it keeps failing, an admin can read the worker log."
