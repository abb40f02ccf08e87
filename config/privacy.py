"""Who is hidden from whom: the platform's hook for a visibility rule an app
owns (docs/design.md#blocks).

A user may be hidden from another. Wherever the product shows a person or
what they wrote, a hidden person's rows leave the reader's lists and their
own pages answer 404, exactly as if they did not exist. The rule is an app's
(safety's blocks), and the platform imports no app: the app registers the
rule in its ``AppConfig.ready()`` with ``hide_users_with``, and every read of
every app asks here:

- ``hidden(field, reader)``: a ``Q`` of the rows whose ``field`` (a key to a
  user, or ``"pk"`` for users themselves) names a user hidden from
  ``reader``, for ``.exclude()``. The rule joins the reader's statement as
  subqueries: it costs no query of its own.
- ``hidden_users(reader)``: the ids of those users, read now, for code that
  holds them (a WebSocket filtering what it forwards);
- ``hidden_users_sql(reader, using)``: a statement selecting them, for
  hand-written SQL.

Staff see everything in the admin, which does not ask.
"""

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Q, QuerySet

# rule(reader): querysets of user ids, one column each (a real column: Django
# counts a subquery's columns wrongly when it selects only an expression of a
# model with a composite key); the users hidden from the reader are those any
# of them names.
_rule: Callable[..., Iterable[QuerySet]] = lambda reader: ()  # noqa: E731


def hide_users_with(rule: Callable[..., Iterable[QuerySet]]) -> None:
    """Make ``rule(reader)`` the users hidden from ``reader``: it returns
    querysets of user ids, one column each, which ``hidden`` uses as
    subqueries."""
    global _rule
    _rule = rule


def hidden(field: str, reader) -> Q:
    """Rows whose ``field`` is a user hidden from ``reader``: for ``.exclude()``."""
    found = Q(**{f"{field}__in": ()})  # nobody, until a rule names someone
    for ids in _rule(reader):
        found |= Q(**{f"{field}__in": ids})
    return found


def hidden_users(reader) -> set:
    """The ids of the users hidden from ``reader``, read now."""
    return {user_id for ids in _rule(reader) for user_id in ids}


def hidden_users_sql(reader, using: str = "default") -> tuple[str, list]:
    """A statement selecting the ids of the users hidden from ``reader`` (one
    column, for ``... NOT IN (<it>)`` in hand-written SQL), and its
    parameters."""
    connection = connections[using]
    compiled = [
        ids.query.get_compiler(connection=connection).as_sql() for ids in _rule(reader)
    ]
    if not compiled:  # nobody, as a column of the users' key type
        meta, quote = get_user_model()._meta, connection.ops.quote_name
        table, key = quote(meta.db_table), quote(meta.pk.column)
        return f"SELECT {key} FROM {table} WHERE 1 = 0", []  # noqa: S608 (names)
    sql = " UNION ALL ".join(statement for statement, _ in compiled)
    return sql, [param for _, params in compiled for param in params]
