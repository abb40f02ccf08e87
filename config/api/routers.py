"""The router every app's ``api/urls.py`` uses, and the ``<id:...>`` converter."""

from django.core.validators import validate_slug
from django.db import models
from django.urls import register_converter
from rest_framework import routers

MAX_BIGINT = 2**63 - 1


class IdConverter:
    """``<id:...>``: a row id within ``bigint`` range; a larger number is a 404,
    not an overflow in the database driver."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_BIGINT:
            raise ValueError(value)  # Django reads this as "no match"
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


def converter_for(field: models.Field) -> str:
    """The path converter that matches exactly the values of ``field``."""
    while isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.IntegerField):  # AutoField, BigAutoField too
        return "id"
    if isinstance(field, models.UUIDField):
        return "uuid"
    if isinstance(field, models.SlugField) or validate_slug in field.validators:
        return "slug"
    return "str"


class Router(routers.DefaultRouter):
    """DRF's router with path converters instead of regexes, no format
    suffixes, and each viewset's lookup converter derived from its model:
    ``<id:post_id>`` for a bigint key, ``<uuid:user_id>``, ``<slug:badge>``.
    A viewset may still set ``lookup_value_converter`` itself."""

    include_format_suffixes = False

    def __init__(self):
        super().__init__(use_regex_path=False)

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        converter = getattr(viewset, "lookup_value_converter", None)
        if converter is None:
            queryset = getattr(viewset, "queryset", None)
            model = (
                queryset.model
                if queryset is not None
                else viewset.serializer_class.Meta.model
            )
            converter = converter_for(
                model._meta.pk
                if lookup_field == "pk"
                else model._meta.get_field(lookup_field)
            )
        return f"<{converter}:{lookup_prefix}{kwarg}>"
