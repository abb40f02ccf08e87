"""JSON request bodies: the API's only parser (settings' ``DEFAULT_PARSER_CLASSES``).

DRF's parser decodes a body with any text charset the client names and lets a
deeply nested document exhaust Python's recursion limit (a 500). This one
refuses both with the API's error body. The size limit is Django's: DRF reads
the body through ``request.body``, which refuses more than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (a 413, ``config.api.errors``).
"""

import json

from rest_framework import exceptions, parsers

# Deeper than any body the API accepts; a document nested deeper is refused
# before a serializer walks it.
MAX_DEPTH = 32


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _depth(document) -> int:
    """How deeply ``document``'s arrays and objects nest (without recursion)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((item, depth + 1) for item in value)
    return deepest


def parse_json(text: str):
    """``text`` as a JSON document at most ``MAX_DEPTH`` levels deep, or a
    ``ParseError`` saying why not (a request body, a WebSocket frame)."""
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        document = None  # deeper than Python parses: too deep in any case
    except ValueError as error:
        raise exceptions.ParseError(f"JSON parse error - {error}") from None
    else:
        if _depth(document) <= MAX_DEPTH:
            return document
    raise exceptions.ParseError(
        f"The JSON nests arrays and objects more than {MAX_DEPTH} levels deep."
    )


class JSONParser(parsers.JSONParser):
    """UTF-8 JSON at most ``MAX_DEPTH`` levels deep; anything else is a 400 or
    415 saying why."""

    def parse(self, stream, media_type=None, parser_context=None):
        charset = (parser_context or {}).get("encoding") or "utf-8"
        if charset.lower().replace("-", "") != "utf8":
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=f"JSON bodies must be UTF-8, not {charset!r}.",
            )
        try:
            text = stream.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.ParseError(
                f"The body is not valid UTF-8 (byte {error.start})."
            ) from None
        return parse_json(text)
