"""The lean read path for hot lists (docs/api-conventions.md).

A DRF serializer builds a model instance per row from every column, then calls
one field object per output key; the renderer then walks the result again. For
a list read thousands of times a second that is most of the work. Here a view
fetches only the columns its response shows (``QuerySet.values()`` or SQL),
and a ``Shape`` turns each row into the response's dict directly, leaving
dates and UUIDs for the orjson renderer (config/api/renderers.py) to format.

The DRF serializer stays the documentation: the view keeps it as
``serializer_class`` for the OpenAPI schema, and a test compares the two
outputs for the same rows, so the lean body is exactly the documented one.

Where the ORM cannot say it well (the lightning tab joins after a window and a
limit), ``sql_rows`` runs hand-written SQL with Django's type conversions.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import Field, Value
from rest_framework.response import Response


@dataclass(frozen=True)
class Optional:
    """A nested object that is ``null`` when ``key`` (a column of the row,
    e.g. a left-joined row's key) is NULL."""

    key: str
    shape: dict


@dataclass(frozen=True)
class Convert:
    """A column passed through ``function`` (for values the renderer cannot
    take as they are, such as JSON text to parse)."""

    column: str
    function: Callable


class Shape:
    """A response row's shape: output keys mapped to the row's columns, nested
    dicts for nested objects, ``Optional`` and ``Convert`` where needed.

        POST = Shape({"id": "id", "author": {"id": "author_id",
                      "username": "author__username"}, "body": "body"})
        POST.columns  # ("id", "author_id", "author__username", "body")
        POST.build(row)  # {"id": 1, "author": {"id": ..., ...}, "body": ...}
    """

    def __init__(self, shape: dict):
        self.columns = tuple(dict.fromkeys(_columns(shape)))
        self.build = _builder(shape)

    @classmethod
    def of(cls, serializer_class, columns: dict | None = None) -> "Shape":
        """The flat shape of ``serializer_class``'s ``Meta.fields``, each read
        from the column of its name unless ``columns`` maps it elsewhere
        (``{"invited_by": "invited_by_id"}``)."""
        columns = columns or {}
        return cls(
            {name: columns.get(name, name) for name in serializer_class.Meta.fields}
        )

    def response(self, rows) -> Response:
        return Response([self.build(row) for row in rows])


def _columns(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, Convert):
        yield node.column
    elif isinstance(node, Optional):
        yield node.key
        yield from _columns(node.shape)
    else:
        for child in node.values():
            yield from _columns(child)


def _builder(node) -> Callable[[dict], object]:
    if isinstance(node, str):
        return lambda row: row[node]
    if isinstance(node, Convert):
        return lambda row: node.function(row[node.column])
    if isinstance(node, Optional):
        inner = _builder(node.shape)
        return lambda row: None if row[node.key] is None else inner(row)
    items = [(key, _builder(child)) for key, child in node.items()]
    return lambda row: {key: build(row) for key, build in items}


def sql_rows(sql: str, params: list, columns: dict[str, Field], using="default"):
    """Run ``sql`` and return its rows as dicts keyed by ``columns``' names, each
    value converted as Django converts that field's (SQLite returns dates and
    UUIDs as text). Parameters are adapted by the caller
    (``field.get_db_prep_value(value, connection)``)."""
    connection = connections[using]
    converters = []
    for field in columns.values():
        expression = Value(None, output_field=field)
        found = connection.ops.get_db_converters(expression)
        found += field.get_db_converters(connection)
        converters.append((expression, found))
    names = list(columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for row in rows:
        values = []
        for value, (expression, found) in zip(row, converters, strict=True):
            for converter in found:
                value = converter(value, expression, connection)
            values.append(value)
        result.append(dict(zip(names, values, strict=True)))
    return result
