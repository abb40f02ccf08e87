"""Query parameters (docs/api-conventions.md#query-parameters): an operation
takes the query parameters it documents and refuses any other with a 400
naming it, as a body refuses an unknown field. ``?search=`` on a list that
has no search, or a misspelled filter, would otherwise answer the whole,
unfiltered list as if it had been filtered.

What an operation documents is what its view declares, read as drf-spectacular
reads it for the OpenAPI schema: a list takes its filter backends' parameters
(its ``FilterSet``'s filters, ``ordering``) and its paginator's (``cursor``,
``page``, ``page_size``); any other operation none. ``format`` (DRF's
``URL_FORMAT_OVERRIDE``, which picks the browsable API or JSON) is taken
everywhere. ``tests/config/test_query_parameters.py`` checks every operation
of the schema against this.
"""

from functools import cache

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.settings import api_settings
from rest_framework.viewsets import ViewSetMixin

from config.api.errors import error_body


def _lists(view, method: str) -> bool:
    """Whether ``view`` answers ``method`` with a list: a viewset's route
    without a row in its URL (``list``, ``nearby``), or a list view."""
    if method != "get":
        return False
    if isinstance(view, ViewSetMixin):
        return view.detail is False
    return isinstance(view, ListModelMixin)


def documented_parameters(view, method: str) -> list[str]:
    """The query parameters ``view`` documents for ``method``, in order."""
    if not _lists(view, method):
        return []
    parameters = [
        parameter
        for backend in view.filter_backends
        for parameter in backend().get_schema_operation_parameters(view)
    ]
    if view.paginator is not None:
        parameters += view.paginator.get_schema_operation_parameters(view)
    return sorted({parameter["name"] for parameter in parameters})


@cache
def _documented(view_func, method: str) -> tuple[str, ...] | None:
    """``documented_parameters`` of the view behind ``view_func`` (a DRF view
    as its URL pattern holds it), or None when it is not a view of the
    platform's rules (the schema and docs pages, the API root)."""
    view_class = getattr(view_func, "cls", None)
    if view_class is None or not issubclass(view_class, GenericAPIView):
        return None
    view = view_class(**view_func.initkwargs)
    view.action = (getattr(view_func, "actions", None) or {}).get(method)
    return tuple(documented_parameters(view, method))


class QueryParametersMiddleware:
    """A request to an API view with a query parameter its operation does not
    document is a 400 (code ``unknown_parameter`` for each), before the view
    runs: like a malformed body, before authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.GET:
            return None
        method = "get" if request.method == "HEAD" else request.method.lower()
        documented = _documented(view_func, method)
        if documented is None:
            return None
        taken = {*documented, api_settings.URL_FORMAT_OVERRIDE}
        unknown = [name for name in request.GET if name not in taken]
        if not unknown:
            return None
        message = (
            "Unknown query parameter; the parameters you can send are: "
            f"{', '.join(documented) or 'none'}."
        )
        refused = exceptions.ValidationError(
            {
                name: [exceptions.ErrorDetail(message, code="unknown_parameter")]
                for name in unknown
            }
        )
        return JsonResponse(error_body(refused), status=refused.status_code)
