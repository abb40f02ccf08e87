"""/metrics (config/metrics.py): hidden unless asked for with the token,
and counting what an operator watches: requests by route and status,
throttle rejections, pooled connections."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict:
    """``{(name, labels): value}`` of every sample /metrics shows."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def requests_of(samples: dict, route: str, status: str) -> float:
    labels = (("method", "GET"), ("route", route), ("status", status))
    return samples.get(("http_requests_total", labels), 0)


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}"])
def test_metrics_are_an_unknown_path_without_the_token(client, metrics_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    assert client.get("/metrics", **extra).status_code == 404


def test_metrics_are_an_unknown_path_when_no_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.DEBUG = True  # local development
    assert client.get("/metrics").status_code == 200


def test_requests_are_counted_by_route_and_status(client, api_client, metrics_token):
    route = "api/profiles/users/<uuid:user_id>/"
    before = scrape(client)
    api_client.get("/api/profiles/users/")
    response = api_client.get(
        "/api/profiles/users/00000000-0000-0000-0000-000000000000/"
    )
    assert response.status_code == 404
    after = scrape(client)
    assert requests_of(after, route, "404") == requests_of(before, route, "404") + 1
    users = [key for key in after if key[0] == "http_requests_total"]
    # Patterns, not paths: no user id appears in any label.
    assert not any("00000000" in str(key) for key in users)
    latency = ("http_request_duration_seconds_count", (("route", route),))
    assert after[latency] >= before.get(latency, 0) + 1


def test_throttle_rejections_are_counted(client, rate_limits, metrics_token, db):
    rate_limits(password=("1/minute", 1))
    key = ("throttle_rejections_total", (("scope", "password"),))
    before = scrape(client).get(key, 0)
    anyone = APIClient(REMOTE_ADDR="10.9.8.7")
    body = {"username": "nobody", "password": "wrong"}
    statuses = [anyone.post("/api/auth/token/", body).status_code for _ in range(3)]
    assert statuses == [400, 429, 429]
    assert scrape(client)[key] == before + 2


def test_pooled_connections_are_shown(client, metrics_token, postgresql, db):
    samples = scrape(client)
    open_ = samples[("db_pool_connections", (("alias", "default"), ("state", "open")))]
    in_use = samples[
        ("db_pool_connections", (("alias", "default"), ("state", "in_use")))
    ]
    assert open_ >= 1 and 0 <= in_use <= open_
