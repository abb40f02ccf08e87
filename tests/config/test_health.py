"""The load balancer's probes (config/health.py): /healthz answers with no
I/O, /readyz checks the database, the cache and the channel layer; both
before host validation and the HTTPS redirect. The same probes against a
database and Redis that refuse connections: tests/config/test_connection_budget.py."""

import pytest


@pytest.fixture
def production_like(settings):
    """A host the probe does not name, and HTTPS required."""
    settings.ALLOWED_HOSTS = ["api.example.com"]
    settings.SECURE_SSL_REDIRECT = True


def test_healthz_answers_a_probe_by_address_over_http_with_no_io(
    client, production_like
):
    """No ``db`` fixture: a query would fail the test."""
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # Any other path still meets the host check.
    assert client.get("/api/", HTTP_HOST="10.0.0.7:8000").status_code == 400


def test_readyz_is_ready_when_everything_answers(client, production_like, db):
    response = client.get("/readyz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "channel_layer": "ok"},
    }


def test_readyz_names_the_cache_when_redis_is_down(client, db, redis_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "failed: ConnectionError"
