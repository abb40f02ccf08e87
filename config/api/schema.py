"""The OpenAPI documentation of errors (settings' ``POSTPROCESSING_HOOKS``)."""

import json
import re

ERROR_SCHEMA = {
    "type": "object",
    "description": "The body of every 4xx response.",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status code."},
        "code": {
            "type": "string",
            "description": "Machine-readable reason: invalid, not_found, "
            "not_authenticated, permission_denied, conflict, ...",
        },
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "errors": {
            "type": "array",
            "description": "For `invalid` and `conflict`: one entry per problem.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {
                        "type": "string",
                        "nullable": True,
                        "description": "Dotted path of the input field; "
                        "null when the problem is not one field's.",
                    },
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["status", "code", "detail", "errors"],
}

ERROR_RESPONSES = {
    "400": "Invalid input.",
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Not found.",
    "409": "Conflicts with the current data.",
}
BODY_ERROR_RESPONSES = {
    "413": "The body is larger than the server accepts.",
    "415": "The body is not JSON (send application/json, UTF-8).",
}
THROTTLED_RESPONSE = {"429": "Too many requests; retry after Retry-After seconds."}


def document_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation documents its 4xx with ``Error``:
    413 and 415 where it takes a body, 429 where its view is rate-limited
    (for the methods its throttles count: ``methods``, else all).
    Then components no operation uses are dropped (drf-spectacular makes a
    request component for a nested read-only serializer, such as
    ``TagBadgeRequest``, that no request body refers to)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = (
        ERROR_SCHEMA
    )
    throttled = {
        (path, method.lower())
        for path, _, method, view in generator.endpoints
        for throttle in getattr(view.cls, "throttle_classes", ())
        if method in getattr(throttle, "methods", {method})
    }
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            errors = ERROR_RESPONSES
            if "requestBody" in operation:
                errors = {**errors, **BODY_ERROR_RESPONSES}
            if (path, method) in throttled:
                errors = {**errors, **THROTTLED_RESPONSE}
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": ref})
    _drop_unused_components(result)
    return result


def _refs(node) -> set[str]:
    text = json.dumps(node, default=str)  # descriptions may be lazy strings
    return set(re.findall(r'"#/components/schemas/([^"]+)"', text))


def _drop_unused_components(result) -> None:
    components = result["components"]["schemas"]
    used = set()
    todo = _refs({k: v for k, v in result.items() if k != "components"})
    while todo:
        name = todo.pop()
        used.add(name)
        todo |= _refs(components[name]) - used
    for name in set(components) - used:
        del components[name]
