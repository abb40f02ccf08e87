"""Model fields, the ``Now()`` their database defaults use, and validators,
for every app."""

import json
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.db.models import functions

# The longest URL any text column takes (avatars, banners, music, media):
# what browsers and CDNs handle everywhere (docs/api-conventions.md#limits).
URL_MAX_LENGTH = 2_000
# The longest free-form JSON object, as compact JSON text (``validate_json_object``).
JSON_OBJECT_MAX_LENGTH = 8_192


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def validate_json_nul_free(value) -> None:
    """No NUL character in any string of a JSON value: PostgreSQL's ``jsonb``
    cannot store one (SQLite would, silently)."""
    if _has_nul(value):
        raise ValidationError(
            "JSON strings cannot contain the NUL character (\\u0000).",
            code="null_characters_not_allowed",
        )


def validate_json_size(value) -> None:
    """At most ``JSON_OBJECT_MAX_LENGTH`` characters of compact JSON text
    (``{"a":1}`` is 7), so a row, and a page of them, has a bounded size."""
    length = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    if length > JSON_OBJECT_MAX_LENGTH:
        raise ValidationError(
            "Ensure this JSON has at most %(limit_value)d characters "
            "(it has %(show_value)d).",
            code="max_length",
            params={"limit_value": JSON_OBJECT_MAX_LENGTH, "show_value": length},
        )


def validate_json_object(value) -> None:
    """For a ``JSONField`` that holds an object (``{...}``) without NUL
    characters, of at most ``JSON_OBJECT_MAX_LENGTH`` characters: model forms
    (the admin) run it; the API's ``config.api.serializers.JSONObjectField``
    checks the same."""
    if value is not None and not isinstance(value, dict):
        raise ValidationError("Enter a JSON object ({...}).", code="invalid_type")
    validate_json_nul_free(value)
    validate_json_size(value)


def validate_fields(instance: models.Model, names: Iterable[str]) -> None:
    """Validate the fields ``names`` of ``instance`` as a model form would
    (their validators, ``max_length``, blank and choices): for a service
    that writes without a form or a serializer (the chatbot's tools and
    agent). Raises ``ValidationError`` keyed by field name; foreign keys are
    not named, so it costs no query."""
    others = {field.name for field in instance._meta.concrete_fields} - set(names)
    instance.clean_fields(exclude=others)


class Now(functions.Now):
    """Django's ``Now()`` (``statement_timestamp()`` on PostgreSQL), but on
    SQLite written with six fractional digits, as Django writes the datetimes
    it sends itself.

    SQLite stores datetimes as text and compares them as text. Django's
    ``Now()`` there gives ``...:23.260`` (``%f`` has three digits) where Django
    binds ``...:23.260000``, and ``...:23`` for a whole second: the same instant
    would compare as earlier or later, and keyset pagination on such a column
    would repeat or skip rows. Use it for every ``db_default``.
    """

    def as_sqlite(self, compiler, connection, **extra_context):
        # On a whole second Django writes no fraction at all (str(datetime)):
        # ".000000" is dropped to match.
        template = (
            "REPLACE(STRFTIME('%%%%Y-%%%%m-%%%%d %%%%H:%%%%M:%%%%f000', 'NOW'), "
            "'.000000', '')"
        )
        return self.as_sql(compiler, connection, template=template, **extra_context)


class BoundedTextField(models.TextField):
    """A ``text`` column whose values have at most ``max_length`` characters:
    the column stays ``text`` (the seeds' type), the limit is the
    application's (docs/api-conventions.md#limits lists every one).

    Every door reaches the limit: model validation (``full_clean``, so the
    admin's forms) runs its ``MaxLengthValidator``, as a ``CharField``'s; a
    ``ModelSerializer`` takes ``max_length`` (a 400 naming the field and the
    limit, and ``maxLength`` in the OpenAPI schema); services that write
    without either call ``validate_fields``. NUL is refused too: PostgreSQL
    cannot store it in text.
    """

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        self.validators.extend(
            [MaxLengthValidator(max_length), ProhibitNullCharactersValidator()]
        )

    def formfield(self, **kwargs):
        # No ``maxlength`` in the text box: a browser counts UTF-16 units and
        # silently cuts pasted text; the form's error says the limit instead
        # (as the tagline's, profiles.fields).
        field = super().formfield(**kwargs)
        field.widget.attrs.pop("maxlength", None)
        return field


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


class UUIDPrimaryKey(models.UUIDField):
    """A random UUID key, made by Python (a new row's id is known before it is
    written) and by the database (``gen_random_uuid()``) for raw inserts."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", uuid.uuid4)
        kwargs.setdefault("db_default", functions.UUID4())
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


class StringArrayField(models.Field):
    """A list of strings of at most ``max_length`` characters each: the
    seeds' ``VARCHAR[]`` (``varchar(N)[]``) on PostgreSQL, JSON text on
    SQLite, which has no arrays. Python sees a ``list`` on both.

    ``<field>__has=value`` finds the rows whose list holds ``value``:
    ``@> ARRAY[value]`` on PostgreSQL (the operator a GIN index serves),
    ``json_each`` on SQLite.
    """

    description = "List of strings"

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return f"varchar({self.max_length})[]"
        return "text"

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        value = list(value)
        return value if connection.vendor == "postgresql" else json.dumps(value)

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))


@StringArrayField.register_lookup
class Has(models.Lookup):
    """``tags_cached__has="growth"``: the list holds that string."""

    lookup_name = "has"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = {rhs})"  # noqa: S608 (compiled SQL)
        return sql, (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        # varchar[], not varchar(n)[]: a cast to n characters would cut a
        # longer value to one that matches.
        return f"{lhs} @> ARRAY[{rhs}]::varchar[]", (*lhs_params, *rhs_params)
