"""One error body for every 4xx (and a 500) of the API, whoever raises it.

``exception_handler`` (settings' ``EXCEPTION_HANDLER``) turns DRF's and
Django's exceptions into the body README.md documents. When Django answers
instead of DRF, requests under ``/api/`` get the same body: from
``config.middleware`` for a constraint violation at COMMIT, and from the
``handler*`` views (``config/urls.py``) for an unhandled exception (500) or a
request refused before any view (400).

A database that cannot answer now (its pool exhausted, the server refusing,
dropping or shutting down connections) is a 503 with ``Retry-After``
wherever it is raised: in a DRF view (``exception_handler``), in a
middleware, the admin or at COMMIT (``server_error``), or in a WebSocket
event (``config.ws``, through ``api_exception``).
"""

import functools
import logging
import re
import sys
from collections.abc import Mapping

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.db.models import F, ProtectedError, RestrictedError, UniqueConstraint
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from config.api.exceptions import Conflict, PayloadTooLarge, ServiceUnavailable

logger = logging.getLogger(__name__)

LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# SQLSTATE of the two constraint violations a correct request can still meet
# when it loses a race; any other IntegrityError is a bug (a CHECK or NOT NULL
# the serializer should have caught).
UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION = "23505", "23503"
SQLITE_UNIQUE = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}
SQLITE_FOREIGN_KEY = "SQLITE_CONSTRAINT_FOREIGNKEY"

# SQLSTATE classes of a database that cannot answer now but may in a moment:
# connection exceptions, insufficient resources ("too many clients"),
# operator intervention (an administrator's shutdown or termination of the
# backend, "cannot connect now", a cancelled statement) and transaction
# rollbacks (deadlock, serialization failure). psycopg gives no SQLSTATE for
# a connection that could not be made, nor the pool for a timeout.
UNAVAILABLE_SQLSTATE_CLASSES = {"08", "40", "53", "57"}
SQLITE_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}
# Seconds a client is asked to wait before retrying a 503.
RETRY_AFTER = 5


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


def _body(status: int, code: str, detail: str, errors: list[dict]) -> dict:
    return {"status": status, "code": code, "detail": detail, "errors": errors}


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
        return _body(exc.status_code, "invalid", detail or "Invalid input.", errors)
    return _body(
        exc.status_code,
        getattr(exc.detail, "code", exc.default_code),
        _printable(exc.detail),
        getattr(exc, "errors", []),
    )


# --- which database errors are a 409 ------------------------------------------------


def _field_names(expression):
    """The model fields an index expression such as ``Lower("email")`` reads."""
    if isinstance(expression, F):
        yield expression.name
    for source in getattr(expression, "get_source_expressions", list)():
        yield from _field_names(source)


@functools.cache
def _unique_constraints() -> dict[str | tuple, tuple[list[str], str | None]]:
    """Every unique constraint of the project's models, under its name and
    under ``(table, columns)``: its columns, and the message its model gives
    for a violation (None for Django's generic one)."""
    found = {}
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if not isinstance(constraint, UniqueConstraint):
                continue
            names = list(constraint.fields) or [
                name for e in constraint.expressions for name in _field_names(e)
            ]
            columns = [model._meta.get_field(name).column for name in names]
            custom = (
                constraint.violation_error_message
                != constraint.default_violation_error_message
            )
            found[constraint.name] = found[(model._meta.db_table, *columns)] = (
                columns,
                constraint.get_violation_error_message() if custom else None,
            )
    return found


def _violation(exc: IntegrityError) -> tuple[str, str | tuple, list[str]] | None:
    """``(kind, constraint, columns)`` of a unique or foreign key violation,
    read from the driver's error; None for any other error. ``constraint`` is
    the constraint's name, or ``(table, *columns)`` where SQLite gives no name.
    """
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in (UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION):  # PostgreSQL
        kind = "unique" if sqlstate == UNIQUE_VIOLATION else "foreign_key"
        key = re.match(r"Key \((.*?)\)=", cause.diag.message_detail or "")
        columns = key.group(1).split(", ") if key else []
        return kind, cause.diag.constraint_name, columns
    name = getattr(cause, "sqlite_errorname", None)  # SQLite
    if name in SQLITE_UNIQUE:
        failed = str(cause).removeprefix("UNIQUE constraint failed: ")
        index = re.fullmatch(r"index '(.*)'", failed)
        if index:
            return "unique", index.group(1), []
        table = failed.partition(".")[0]
        columns = [column.split(".")[-1] for column in failed.split(", ")]
        return "unique", (table, *columns), columns
    if name == SQLITE_FOREIGN_KEY:
        return "foreign_key", "", []
    return None


def integrity_conflict(exc: IntegrityError) -> Conflict | None:
    """The 409 for a unique or foreign key violation (a request that lost a
    race, or named a row deleted meanwhile), naming the field when one column
    is at stake; None for any other integrity error, which is a bug."""
    violation = _violation(exc)
    if violation is None:
        return None
    kind, constraint, columns = violation
    # A known constraint names its columns even when the driver shows an
    # expression (lower(email)) or nothing at all.
    columns, message = _unique_constraints().get(constraint, (columns, None))
    named = ", ".join(columns) or "these values"
    if kind == "unique":
        code = "unique"
        message = message or f"A row with the same {named} already exists."
    elif "still referenced" in str(exc):
        code = "protected"
        message = "Other rows still reference this one; remove those first."
    elif columns:
        code = "does_not_exist"
        message = f"The row {named} refers to does not exist (any more)."
    else:  # SQLite does not say which reference broke
        code = "foreign_key"
        message = (
            "A reference between rows would break: a row was deleted meanwhile, "
            "or is still referenced."
        )
    field = columns[0] if len(columns) == 1 else None
    return Conflict(
        message, errors=[{"field": field, "code": code, "message": message}]
    )


# --- which database errors are a 503 ------------------------------------------------


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not answer now (a retry may
    succeed), rather than that a statement is wrong (a bug)."""
    if isinstance(exc, InterfaceError):  # the connection was closed under us
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if hasattr(cause, "sqlite_errorname"):
        return cause.sqlite_errorname in SQLITE_BUSY
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES


def unavailable(exc: BaseException) -> ServiceUnavailable:
    """The 503 for a database that could not answer, logged (without the
    traceback of a bug: nothing is wrong with the code)."""
    logger.warning("the database is unavailable: %s", exc)
    return ServiceUnavailable()


def api_exception(exc: Exception) -> Exception | None:
    """``exc`` as the DRF exception the API answers with (Django's own
    exceptions translated), or None for an ``IntegrityError`` that is a bug.
    The WebSocket consumers answer with the same bodies (config/ws.py)."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, RequestDataTooBig):  # read by request.body
        return PayloadTooLarge()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(serializers.as_serializer_error(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        names = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        return Conflict(f"Still referenced by {', '.join(names)}; remove those first.")
    if isinstance(exc, IntegrityError):
        return integrity_conflict(exc)
    if database_unavailable(exc):
        return unavailable(exc)
    return exc


def exception_handler(exc, context):
    """DRF's handler, widened to the errors the model layer raises, with one body.

    Django's ``ValidationError`` (from services and model validation) is a 400;
    deleting a row that protected rows still reference, or losing a race to a
    unique or foreign key constraint, is a 409; a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413; a database that cannot answer
    now is a 503 with ``Retry-After``. Any other ``IntegrityError`` stays
    unhandled: DRF re-raises it and Django logs a 500.
    """
    exc = api_exception(exc)
    if exc is None:
        return None
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(exc)
        if isinstance(exc, ServiceUnavailable):
            response["Retry-After"] = str(RETRY_AFTER)
    return response


# --- when Django answers instead of DRF ---------------------------------------------


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def _json_error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(_body(status, code, detail, []), status=status)


def bad_request(request, exception):
    """400 for a request Django refuses before any view (a bad Host header)."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    return _json_error(400, "bad_request", "The request could not be understood.")


def permission_denied(request, exception):
    if not is_api_request(request):
        return defaults.permission_denied(request, exception)
    return _json_error(403, "permission_denied", "You are not allowed to do this.")


def page_not_found(request, exception):
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    return _json_error(404, "not_found", "Not found.")


def server_error(request):
    """500: a bug. Django has logged it with its traceback already.

    Or a 503, when the exception being handled (Django calls this inside its
    ``except``) is the database's unavailability, raised outside DRF: by a
    middleware (a write's transaction, sessions), the admin, or a COMMIT.
    """
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        return service_unavailable(request, unavailable(exc))
    if not is_api_request(request):
        return defaults.server_error(request)
    return _json_error(
        500, "server_error", "Something went wrong on our side; it has been logged."
    )


def service_unavailable(request, exc: ServiceUnavailable):
    """503 with ``Retry-After``: the API's JSON body under ``/api/``, a short
    page for people elsewhere (the admin)."""
    if is_api_request(request):
        response = JsonResponse(error_body(exc), status=exc.status_code)
    else:
        response = HttpResponse(
            loader.render_to_string("503.html", {"detail": exc.detail}),
            status=exc.status_code,
        )
    response["Retry-After"] = str(RETRY_AFTER)
    return response
