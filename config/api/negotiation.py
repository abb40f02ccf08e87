"""Content negotiation (settings' ``DEFAULT_CONTENT_NEGOTIATION_CLASS``)."""

from rest_framework import negotiation

JSON = "application/json"
JSON_ACCEPTS = {"", "*/*", JSON}


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation, answered at once for the ``Accept`` headers API
    clients send (none, ``*/*``, ``application/json``) when the view's first
    renderer is JSON: parsing those headers cost more than rendering a small
    body. Anything else (the browsable API, ``?format=``) is DRF's."""

    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0]
        if (
            not format_suffix
            and first.media_type == JSON
            and request.META.get("HTTP_ACCEPT", "") in JSON_ACCEPTS
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, JSON
        return super().select_renderer(request, renderers, format_suffix)
