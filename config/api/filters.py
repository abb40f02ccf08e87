"""Filtering and ordering of lists (settings' ``DEFAULT_FILTER_BACKENDS``)."""

import django_filters
from django import forms
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters

from config.api.pagination import key_columns

MAX_BIGINT = 2**63 - 1


class IdField(forms.IntegerField):
    """A row id: a positive integer within ``bigint``."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_BIGINT, **kwargs)


class UUIDField(forms.UUIDField):
    default_error_messages = {"invalid": "This is not a valid UUID."}


class UUIDFilter(django_filters.UUIDFilter):
    field_class = UUIDField


class IdFilter(django_filters.NumberFilter):
    field_class = IdField


class FilterSet(django_filters.FilterSet):
    """django-filter's ``FilterSet``, but a foreign key filters by the key's
    value: ``?user_id=<uuid>``, ``?post_id=<id>``.

    django-filter's default for a foreign key is a choice field that looks the
    row up just to validate the value (a query per request) and says "Select a
    valid choice" for a malformed one. Here a key is checked by its type alone
    ("This is not a valid UUID."; a text key such as ``member_id`` takes any
    string); a well-formed key of no row matches nothing.
    List foreign keys in ``Meta.fields`` by their column name (``user_id``).
    """

    def get_form_class(self):
        """django-filter builds this form class anew for every request; its
        fields do not depend on the request here, so it is built once."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr=None):
        if isinstance(field, models.ForeignKey) and lookup_expr in (None, "exact"):
            key = field.target_field
            while isinstance(key, models.ForeignKey):  # a one-to-one primary key
                key = key.target_field
            if isinstance(key, models.UUIDField):
                return UUIDFilter(field_name=field_name)
            if isinstance(key, models.IntegerField):
                return IdFilter(field_name=field_name)
            if isinstance(key, models.CharField):  # a natural key: "#247"
                return django_filters.CharFilter(field_name=field_name)
        return super().filter_for_field(field, field_name, lookup_expr)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, but a request whose query names none of the
    view's filters is not run through the filter set's form at all (the
    form's work is most of a plain list's filtering cost)."""

    def get_schema_operation_parameters(self, view):
        """A parameter per filter of the view's filter set, as every other
        backend and paginator says its own (``config.api.parameters`` takes
        their names; drf-spectacular documents the filters itself)."""
        filterset_class = self.get_filterset_class(view)
        names = filterset_class.base_filters if filterset_class else ()
        return [
            {"name": name, "required": False, "in": "query", "schema": {}}
            for name in names
        ]

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = filterset_class.base_filters.keys()
        if not any(name in request.query_params for name in names):
            return queryset
        return super().filter_queryset(request, queryset, view)


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering filter, but an unknown field is a 400, not silently
    ignored, and rows that tie are ordered by their key, in the direction of
    the last term: ``?ordering=-created_at`` is ``-created_at, -id``, so pages
    never overlap or skip a row (a composite key adds the columns of it the
    ordering lacks).

    Each viewset lists its ``ordering_fields``: only indexed columns (with the
    key after them), so an ordered page never sorts a whole table.
    """

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering or ordering[-1].lstrip("-") == "pk":
            return ordering
        named = {term.lstrip("-") for term in ordering}
        sign = "-" if ordering[-1].startswith("-") else ""
        key = queryset.model._meta.pk
        missing = [c for c in key_columns(queryset.model) if c not in named]
        if key.name in named or not missing:
            return ordering
        return [*ordering, *(sign + column for column in missing)]

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
