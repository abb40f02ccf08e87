"""Every operation in the OpenAPI schema, fuzzed with schemathesis.

Requests go through the WSGI application in this process, authenticated as a
superuser (so write endpoints run their code, not just a 403), against the real
database of the run. A test fails on any 5xx or on a response whose status,
content type or body the schema does not describe. Endpoints added later are
fuzzed with no change here: the schema is read from /api/schema/.

Random ids in paths mostly meet 404s, so about half the examples aim at rows that
exist instead: ``existing_value`` lists the collection the path parameter belongs
to and takes its first row's value. The rows are the shared ``every_table``
fixture's (tests/conftest.py), which each new app extends.

    FUZZ_RANDOM=1 FUZZ_EXAMPLES=200 .venv/bin/pytest tests/test_openapi_fuzz.py

explores further than CI's fixed examples.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WSGIClient

from config.wsgi import application
from tests.helpers import existing_value

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(db):
    # Django's test client keeps the test's database connection open across
    # requests; a bare WSGI call would close it at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def staff_headers(every_table):
    token, _ = Token.objects.get_or_create(user=every_table)
    return {"Authorization": f"Token {token.key}"}


def wsgi_get(headers):
    """GET through the WSGI app like the fuzzer (Django's test client would
    reconnect the connection-closing signals disconnected above)."""

    def get(url):
        response = WSGIClient(application).get(url, headers=headers)
        return response.json if response.status_code == 200 else None

    return get


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    # The same examples on every run, so CI is reproducible; FUZZ_RANDOM=1
    # explores new ones (run it with a larger FUZZ_EXAMPLES now and then).
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation(case, data, staff_headers):
    if case.path_parameters and data.draw(st.booleans(), label="existing rows"):
        for name in case.path_parameters:
            value = existing_value(wsgi_get(staff_headers), case.path, name)
            if value is not None:
                case.path_parameters[name] = value
    case.call_and_validate(headers=staff_headers, checks=CHECKS)
