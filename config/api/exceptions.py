"""API exceptions DRF lacks. Pure: imports nothing from DRF's views."""

from django.conf import settings
from rest_framework import exceptions, status


class Conflict(exceptions.APIException):
    """409: a unique or foreign key constraint refused the write."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the data."
    default_code = "conflict"

    def __init__(self, detail=None, *, errors: list[dict] | None = None):
        super().__init__(detail)
        self.errors = errors or []


class PayloadTooLarge(exceptions.APIException):
    """413: the request body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (or ``detail`` says what else was too large)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, detail=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(detail or f"The request body is larger than {limit} bytes.")


class ServiceUnavailable(exceptions.APIException):
    """503: the database could not be reached in time (its pool exhausted, the
    server refusing or dropping connections); the client retries after
    ``Retry-After`` seconds (``RETRY_AFTER``)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is briefly unavailable; retry in a few seconds."
    default_code = "service_unavailable"
