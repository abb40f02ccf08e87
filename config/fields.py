"""Model fields every app may use."""

from django.db import models
from django.db.models.functions import Now


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
