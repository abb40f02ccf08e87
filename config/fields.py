"""Model fields, and the ``Now()`` their database defaults use, for every app."""

from django.db import models
from django.db.models import functions


class Now(functions.Now):
    """Django's ``Now()`` (``statement_timestamp()`` on PostgreSQL), but on
    SQLite written with six fractional digits, as Django writes the datetimes
    it sends itself.

    SQLite stores datetimes as text and compares them as text. Django's
    ``Now()`` there gives ``...:23.260`` (``%f`` has three digits) where Django
    binds ``...:23.260000``: the same instant would compare as earlier, and
    keyset pagination on such a column would repeat rows. Use it for every
    ``db_default``.
    """

    def as_sqlite(self, compiler, connection, **extra_context):
        template = "STRFTIME('%%%%Y-%%%%m-%%%%d %%%%H:%%%%M:%%%%f000', 'NOW')"
        return self.as_sql(compiler, connection, template=template, **extra_context)


class UpdatedAtField(models.DateTimeField):
    """``updated_at``: the database's time of the row's last save.

    Both its default and the value each ``save()`` writes are ``Now()``, the
    database's clock, like a ``created_at`` with ``db_default=Now()``: a new
    row's two timestamps come from one statement and are equal, and later
    saves only move ``updated_at`` forward. (``auto_now`` takes the app
    server's clock before the statement runs, so a new row's ``updated_at``
    could be earlier than its ``created_at``.) Django reads the written value
    back (``RETURNING``) into the instance. ``QuerySet.update()`` does not
    touch it, as with ``auto_now``.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("db_default", Now())
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        setattr(model_instance, self.attname, Now())
        return getattr(model_instance, self.attname)
