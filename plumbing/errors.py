"""The refusal every service raises, and how the pages and the API answer it."""


class ServiceError(Exception):
    """A refusal the user can act on: `message` is the sentence, `field` the form field when there is one.

    `http_status` is what the API answers with: 400 for bad input, 403 for a right the user lacks,
    404 for what the user may not see, 409 for a state conflict.
    """

    http_status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if http_status is not None:
            self.http_status = http_status

    def __reduce__(self):
        # A worker's refusal crosses processes (Celery pickles what a task raised before its failure
        # handler sees it): without this it arrives as an unpickleable wrapper and reads as an
        # unexpected failure, not as the sentence it is.
        return (_revived, (type(self), self.args, self.__dict__))


def _revived(cls: type, args: tuple, state: dict) -> ServiceError:
    error = Exception.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


# Everything a view or serializer turns into a message for the user, never into a 500.
USER_ERRORS = (ServiceError,)


def http_status_of(error: Exception) -> int:
    return getattr(error, "http_status", 400)
