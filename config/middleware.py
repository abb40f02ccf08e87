"""One transaction per write request; none around reads."""

from django.db import IntegrityError, transaction
from django.http import JsonResponse

from config.api.errors import error_body, integrity_conflict, is_api_request

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class AtomicWritesMiddleware:
    """What ``ATOMIC_REQUESTS`` does for writes, without its cost for reads.

    A ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` runs in one transaction, rolled
    back when the response is an error (4xx or 5xx: a request that fails writes
    nothing); a read runs in autocommit, one round trip per query instead of
    three. Last in ``MIDDLEWARE``, so it wraps the view alone, as
    ``ATOMIC_REQUESTS`` does. A unique or foreign key violation found at COMMIT
    (foreign keys are deferred) is the API's 409 (``config.api.errors``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 400:
                    transaction.set_rollback(True)
        except IntegrityError as error:
            conflict = integrity_conflict(error)
            if conflict is None or not is_api_request(request):
                raise
            return JsonResponse(error_body(conflict), status=conflict.status_code)
        return response
