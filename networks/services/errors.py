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
