"""The REST platform every app's API shares: one error format, pagination,
ordering, permissions and the OpenAPI documentation of errors.

Settings point here (``REST_FRAMEWORK``, ``SPECTACULAR_SETTINGS``), so a viewset
gets all of it without importing anything. README.md documents the error format;
docs/design.md says why each piece is here.
"""

import re
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, filters, pagination, permissions, serializers
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state of the data."
    default_code = "conflict"


def _flatten(detail, field=None):
    """Yield ``(field path, ErrorDetail)`` for a DRF error detail of any nesting.

    Nested serializers give dotted paths (``profile.bio``), lists give indexes
    (``post_ids.2``); non-field errors have the path ``None``.
    """
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS):
                yield from _flatten(value, field)
            else:
                yield from _flatten(value, f"{field}.{key}" if field else str(key))
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            for item in detail:
                yield field, item
        else:  # a ListField / many=True: one entry per item
            for index, item in enumerate(detail):
                yield from _flatten(item, f"{field}.{index}" if field else str(index))
    else:
        yield field, detail


def _printable(text) -> str:
    """``text`` with lone surrogates replaced by U+FFFD.

    Error messages may quote the input ('"\\ud800" is not a valid choice.'),
    and a lone surrogate cannot be encoded as UTF-8: echoing it would turn a
    400 into a 500 while rendering.
    """
    return LONE_SURROGATE.sub("\ufffd", str(text))


def error_body(exc: exceptions.APIException) -> dict:
    """The JSON body of every 4xx: ``status``, ``code``, ``detail``, ``errors``."""
    if isinstance(exc, exceptions.ValidationError):
        errors = [
            {
                "field": field and _printable(field),
                "code": getattr(item, "code", "invalid"),
                "message": _printable(item),
            }
            for field, item in _flatten(exc.detail)
        ]
        detail = "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else str(e["message"])
            for e in errors
        )
        return {
            "status": exc.status_code,
            "code": "invalid",
            "detail": detail or "Invalid input.",
            "errors": errors,
        }
    return {
        "status": exc.status_code,
        "code": getattr(exc.detail, "code", exc.default_code),
        "detail": _printable(exc.detail),
        "errors": [],
    }


def exception_handler(exc, context):
    """DRF's handler, widened to the errors the model layer raises, with one body.

    Django's ``ValidationError`` (from services and model validation) is a 400;
    deleting a row that protected rows still reference, or losing a race to a
    unique or foreign key constraint, is a 409 instead of a 500.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        names = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        exc = Conflict(f"Still referenced by {', '.join(names)}; remove those first.")
    elif isinstance(exc, IntegrityError):
        exc = Conflict()
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(exc)
    return response


class Pagination(pagination.PageNumberPagination):
    """Page-number pagination; ``page_size`` may be raised up to a bound."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering filter, but an unknown field is a 400, not silently ignored.

    Each viewset lists its ``ordering_fields``: only indexed columns, so an
    ordered page never sorts a whole table.
    """

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        invalid = [term for term in fields if term not in valid]
        if invalid:
            allowed = sorted(name for name, _ in self.get_valid_fields(queryset, view))
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(invalid)}; "
                        f"choose from {', '.join(allowed) or 'nothing'}."
                    ]
                }
            )
        return valid


class ReadOnlyOrModelPermissions(permissions.DjangoModelPermissions):
    """Any authenticated user may read; writing needs the model permission
    (``add_``/``change_``/``delete_``), which staff get in the admin."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
    }


ERROR_SCHEMA = {
    "type": "object",
    "description": "The body of every 4xx response.",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status code."},
        "code": {
            "type": "string",
            "description": "Machine-readable reason: invalid, not_found, "
            "not_authenticated, permission_denied, conflict, ...",
        },
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "errors": {
            "type": "array",
            "description": "For `invalid`: one entry per problem.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {
                        "type": "string",
                        "nullable": True,
                        "description": "Dotted path of the input field; "
                        "null when the problem is not one field's.",
                    },
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["status", "code", "detail", "errors"],
}

ERROR_RESPONSES = {
    "400": "Invalid input.",
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Not found.",
    "409": "Conflicts with the current data.",
}
BODY_ERROR_RESPONSES = {"415": "The body is not JSON (send application/json)."}


def document_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation documents its 4xx with ``Error``."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = (
        ERROR_SCHEMA
    )
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            errors = ERROR_RESPONSES
            if "requestBody" in operation:
                errors = {**errors, **BODY_ERROR_RESPONSES}
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": ref})
    return result
