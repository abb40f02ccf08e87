"""The tagline column and its admin form field, both cleaned by ``clean_tagline``."""

from django import forms
from django.db import models

from profiles.validators import TAGLINE_MAX_LENGTH, clean_tagline


class TaglineFormField(forms.CharField):
    """Form field that normalises before it measures (NFC can shorten text)."""

    def to_python(self, value):
        return clean_tagline(super().to_python(value))


class TaglineField(models.CharField):
    """``varchar(48) NULL`` whose values pass ``clean_tagline`` in ``full_clean``.

    ModelForms (the admin) therefore show a tagline problem as a form error.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", TAGLINE_MAX_LENGTH)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return clean_tagline(super().to_python(value))

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": TaglineFormField, **kwargs})
