"""Base serializers with strict JSON input: every app's serializers derive from
``Serializer`` or ``ModelSerializer`` here (docs/api-conventions.md).

DRF coerces freely: ``5`` becomes the string ``"5"``, ``"12"`` and ``12.0``
become the id 12, ``true`` becomes the id 1, and fields it does not know are
dropped silently. Here, before DRF's own validation runs, every value sent must
have the JSON type its field documents, and every key must name a field the
client may write; each problem is a 400 entry naming the field:

    {"field": "post_id", "code": "invalid_type",
     "message": "Expected an integer, got a string."}
    {"field": "tagln", "code": "unknown_field", "message": "Unknown field; ..."}
"""

from collections.abc import Mapping

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import fields, relations, serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from config.fields import validate_json_nul_free, validate_json_size


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(fields.JSONField):
    """A ``jsonb`` column that holds a JSON object (``{...}``): any other
    JSON value is a 400 (``invalid_type``), as is a NUL character in any of
    its strings or more than ``JSON_OBJECT_MAX_LENGTH`` characters of JSON;
    the schema says ``object``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [validate_json_nul_free, validate_json_size]


class BlankIsNullCharField(fields.CharField):
    """Text for a nullable column: an empty (or, trimmed, blank) string is
    stored as ``null`` (docs/api-conventions.md: nullable text answers null).

    A subclass whose ``to_internal_value`` cleans text to None (the tagline's
    whitespace) gets None past its validators: they measure and match text,
    and ``len(None)`` would be a 500. Null is checked by ``allow_null``."""

    def run_validation(self, data=fields.empty):
        value = super().run_validation(data)  # "" returns early, unconverted
        return None if value == "" else value

    def run_validators(self, value):
        if value is not None:
            super().run_validators(value)


class VisiblePrimaryKeyField(relations.PrimaryKeyRelatedField):
    """A key to a row the requesting user may see: it is looked up among
    ``visible(request.user)``, so a row they may not see is refused exactly
    as one that does not exist (the same 400, the same body). ``queryset``
    still names the model, for the schema and the JSON type. The serializer
    needs the request in its context (a view's ``get_serializer`` gives it)."""

    def __init__(self, *, visible, **kwargs):
        self.visible = visible
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.visible(self.context["request"].user)


# JSON types by the Python type json.loads gives them.
JSON_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number with a fraction or exponent",
    str: "a string",
    list: "an array",
    dict: "an object",
}
STRING, INTEGER, NUMBER = (
    ("a string", str),
    ("an integer", int),
    ("a number", (int, float)),
)

# (field class, (name, JSON type)): the first class a field is an instance of
# decides. Fields not listed (JSONField, custom fields) accept any type.
FIELD_TYPES = [
    (fields.BooleanField, ("a boolean", bool)),
    (fields.IntegerField, INTEGER),
    (fields.FloatField, NUMBER),
    (fields.DecimalField, ("a number or a numeric string", (int, float, str))),
    (fields.MultipleChoiceField, ("an array", list)),
    (fields.ListField, ("an array", list)),
    (relations.ManyRelatedField, ("an array", list)),
    (serializers.ListSerializer, ("an array", list)),
    (fields.DictField, ("an object", Mapping)),
    (JSONObjectField, ("an object", Mapping)),
    (serializers.Serializer, ("an object", Mapping)),
    (fields.CharField, STRING),
    (fields.UUIDField, STRING),
    (fields.DateTimeField, STRING),
    (fields.DateField, STRING),
    (fields.TimeField, STRING),
    (fields.DurationField, STRING),
    (relations.SlugRelatedField, STRING),
]
INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField)


def expected_type(field) -> tuple[str, type | tuple[type, ...]] | None:
    """The JSON type ``field`` accepts, as (name for people, Python type)."""
    if isinstance(field, relations.PrimaryKeyRelatedField):
        key = field.pk_field or field.queryset.model._meta.pk
        while isinstance(key, models.ForeignKey):  # a one-to-one primary key
            key = key.target_field
        return INTEGER if isinstance(key, INTEGER_KEYS) else STRING
    if isinstance(field, fields.ChoiceField) and not isinstance(
        field, fields.MultipleChoiceField
    ):  # TextChoices are strings; other choices may be any type
        return STRING if all(isinstance(c, str) for c in field.choices) else None
    for field_class, json_type in FIELD_TYPES:
        if isinstance(field, field_class):
            return json_type
    return None


def _json_type_name(value) -> str:
    return JSON_TYPE_NAMES.get(type(value), "null")


def input_errors(field, value):
    """DRF-shaped errors for ``value`` sent to ``field``, or None when its
    JSON types (and, for a serializer, its keys) are all right."""
    if value is None:  # DRF checks allow_null itself
        return None
    json_type = expected_type(field)
    if json_type is not None:
        name, python_type = json_type
        wrong = not isinstance(value, python_type) or (
            isinstance(value, bool) and python_type is not bool
        )
        if wrong:
            message = f"Expected {name}, got {_json_type_name(value)}."
            return [ErrorDetail(message, code="invalid_type")]
    if isinstance(field, serializers.Serializer):
        return _object_errors(field, value)
    if isinstance(field, serializers.ListSerializer | fields.ListField):
        child = field.child
    elif isinstance(field, relations.ManyRelatedField):
        child = field.child_relation
    else:
        return None
    errors = {i: e for i, item in enumerate(value) if (e := input_errors(child, item))}
    return errors or None


def _object_errors(serializer, data: Mapping):
    errors = {}
    writable = {
        name: field
        for name, field in serializer.fields.items()
        if not field.read_only and not isinstance(field, fields.HiddenField)
    }
    for key, value in data.items():
        field = writable.get(key)
        if field is not None:
            if (problem := input_errors(field, value)) is not None:
                errors[key] = problem
        elif key in serializer.fields and serializer.fields[key].read_only:
            errors[key] = [
                ErrorDetail("This field is read-only; leave it out.", code="read_only")
            ]
        else:
            accepted = ", ".join(writable) or "none"
            errors[key] = [
                ErrorDetail(
                    f"Unknown field; the fields you can send are: {accepted}.",
                    code="unknown_field",
                )
            ]
    return errors or None


# Checks JSON types and keys before DRF's validation (module docstring). A
# comment, not a docstring: the OpenAPI schema would show it as the description
# of every serializer that has no docstring of its own.
class StrictInputMixin:
    def to_internal_value(self, data):
        if isinstance(data, Mapping) and (errors := _object_errors(self, data)):
            raise ValidationError(errors)
        return super().to_internal_value(data)


class Serializer(StrictInputMixin, serializers.Serializer):
    pass


class ModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if model_field.null and field_class is fields.CharField:
            field_class = BlankIsNullCharField
        if field_class is fields.ChoiceField and "" not in dict(kwargs["choices"]):
            # DRF lets "" through a choice of a blank=True column: it is not
            # one of the choices (and would break the column's CHECK).
            kwargs.pop("allow_blank", None)
        return field_class, kwargs
