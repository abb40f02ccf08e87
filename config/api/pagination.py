"""Pagination (docs/api-conventions.md): cursors for lists that grow without
bound (settings' ``DEFAULT_PAGINATION_CLASS``), page numbers for small ones."""

import base64
import binascii
import datetime
import uuid
from collections.abc import Callable
from functools import reduce
from operator import or_

import orjson
from django.conf import settings
from django.db.models import Q
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

Fetch = Callable[[tuple | None, bool, int], list]


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=``, for lists with a small bound (badge
    definitions): it counts the rows, which a growing table cannot afford."""

    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters


def key_columns(model) -> list[str]:
    """The columns of ``model``'s primary key: one, or each of a composite
    key's (``user_tags``: ``user_id``, ``tag_id``)."""
    key = model._meta.pk
    return [field.attname for field in getattr(key, "fields", [key])]


def _flip(term: str) -> str:
    return term[1:] if term.startswith("-") else f"-{term}"


def _after(ordering: list[str], position: tuple) -> Q:
    """Rows after ``position`` in ``ordering`` (the keyset condition):
    ``a > x OR (a = x AND b > y) OR ...``, and ``a >= x`` in front of it, so
    the database can start its index scan at the position."""
    names = [term.lstrip("-") for term in ordering]
    beyond = ["lt" if term.startswith("-") else "gt" for term in ordering]
    disjuncts = [
        Q(**dict(zip(names[:i], position[:i], strict=True)))
        & Q(**{f"{names[i]}__{beyond[i]}": position[i]})
        for i in range(len(names))
    ]
    bound = "lte" if ordering[0].startswith("-") else "gte"
    return Q(**{f"{names[0]}__{bound}": position[0]}) & reduce(or_, disjuncts)


def _encode_value(value):
    if isinstance(value, datetime.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value):
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.datetime.fromisoformat(value["t"])
    if isinstance(value, dict) and set(value) == {"u"}:
        return uuid.UUID(value["u"])
    if isinstance(value, int | str) and not isinstance(value, bool):
        return value
    raise ValueError(value)


class CursorPagination(pagination.BasePagination):
    """Keyset pagination: ``{"next", "previous", "results"}``, no COUNT.

    The order is the queryset's (the view's ``ordering`` or ``?ordering=``,
    which ``config.api.filters.OrderingFilter`` ends with the key), so it is
    total and stable. The opaque ``cursor`` holds the first or last row's
    values of those columns and the direction; the next page is the rows after
    it, which an index on the ordering columns finds without counting or
    skipping. A row inserted meanwhile never makes a page repeat or miss one.

    ``paginate_queryset`` takes querysets of model instances or of
    ``.values()`` dicts (which must include the ordering columns).
    ``paginate_rows`` takes any source: a view with hand-written SQL passes
    ``fetch(position, reverse, limit)`` and the row keys its order uses.
    """

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        ordering = []
        for term in queryset.query.order_by or ["-pk"]:
            if term.lstrip("-") != "pk":
                ordering.append(term)
                continue
            sign = "-" if term.startswith("-") else ""
            ordering += [sign + column for column in key_columns(queryset.model)]

        def fetch(position, reverse, limit):
            terms = [_flip(term) for term in ordering] if reverse else ordering
            rows = queryset.order_by(*terms)
            if position is not None:
                rows = rows.filter(_after(terms, position))
            return list(rows[:limit])

        return self.paginate_rows(fetch, ordering, request)

    def paginate_rows(self, fetch: Fetch, ordering: list[str], request) -> list:
        """One page from ``fetch``, which returns up to ``limit`` rows after
        ``position`` (all from the start when None) in ``ordering``, or in the
        reverse order when ``reverse``."""
        self.request = request
        self.ordering = ordering
        size = self.get_page_size(request)
        position, reverse = self.decode_cursor(request)
        rows = fetch(position, reverse, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        if reverse:
            rows.reverse()
        has_next = more if not reverse else True
        has_previous = more if reverse else position is not None
        self.next_position = self._position(rows[-1]) if has_next and rows else None
        self.previous_position = (
            self._position(rows[0]) if has_previous and rows else None
        )
        return rows

    def get_page_size(self, request) -> int:
        try:
            asked = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return api_settings.PAGE_SIZE
        return max(1, min(asked, self.max_page_size))

    def _position(self, row) -> tuple:
        names = [term.lstrip("-") for term in self.ordering]
        if isinstance(row, dict):
            return tuple(row[name] for name in names)
        return tuple(getattr(row, name) for name in names)

    def decode_cursor(self, request) -> tuple[tuple | None, bool]:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None, False
        try:
            cursor = orjson.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
            position = tuple(_decode_value(value) for value in cursor["p"])
            reverse, ordering = bool(cursor["r"]), cursor["o"]
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["This is not a cursor this list gave."]}
            ) from None
        if ordering != self.ordering or len(position) != len(ordering):
            raise exceptions.ValidationError(
                {
                    self.cursor_query_param: [
                        "This cursor belongs to another ordering; start again "
                        "without a cursor."
                    ]
                }
            )
        return position, reverse

    def _link(self, position: tuple | None, reverse: bool) -> str | None:
        if position is None:
            return None
        cursor = {"p": [_encode_value(v) for v in position], "r": int(reverse)}
        encoded = base64.urlsafe_b64encode(orjson.dumps({**cursor, "o": self.ordering}))
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, encoded.decode())

    def get_next_link(self) -> str | None:
        return self._link(self.next_position, reverse=False)

    def get_previous_link(self) -> str | None:
        if self.previous_position is None:
            return None
        return self._link(self.previous_position, reverse=True)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The next or previous page, from a list's own links.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Rows per page.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                },
            },
        ]
