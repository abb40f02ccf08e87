"""The tagline column and its admin form field, both cleaned by ``clean_tagline``.

(The API's field is ``profiles.api.serializers.TaglineSerializerField``.)
"""

from django import forms
from django.db import models

from profiles.validators import TAGLINE_MAX_LENGTH, clean_tagline


class TaglineFormField(forms.CharField):
    """Form field that normalises before it measures (NFC can shorten text)."""

    def to_python(self, value):
        return clean_tagline(super().to_python(value))

    def widget_attrs(self, widget):
        # No ``maxlength``: a browser counts UTF-16 units, so it would cut an
        # emoji tagline PostgreSQL accepts (30 emoji are 60 units) and a
        # 49-character one without saying why; the field's own message says
        # both. ``dir="auto"``: a right-to-left tagline is written and shown
        # right to left.
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return {**attrs, "dir": "auto"}


class TaglineField(models.CharField):
    """``varchar(48) NULL`` whose values pass ``clean_tagline`` when the model
    is validated (``full_clean``, so ModelForms such as the admin's show a
    tagline problem as a form error).

    Like every model field, it does not clean values assigned in code or used
    in queries: ``filter(tagline=...)`` compares the value as given, and
    ``save()`` stores what the instance holds.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", TAGLINE_MAX_LENGTH)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def clean(self, value, model_instance):
        # Normalise first: the length limit applies to the stored (NFC) text.
        return super().clean(clean_tagline(self.to_python(value)), model_instance)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": TaglineFormField, **kwargs})
