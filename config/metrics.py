"""Metrics an operator scrapes at ``/metrics``, in Prometheus' text format
(prometheus_client): requests by route and status with their latency,
database connections per process, open WebSockets, channel-layer errors and
throttle rejections (README.md, "In production").

``/metrics`` is not public: with ``METRICS_TOKEN`` set it answers requests
that send ``Authorization: Bearer <METRICS_TOKEN>``; without it, only while
``DEBUG`` is on. Any other request to it is an unknown path (404). Under
gunicorn with several workers, ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory) makes each worker write its metrics there and ``/metrics`` add
them up (prometheus_client's multiprocess mode; config/gunicorn.py removes a
dead worker's gauges).
"""

import hmac
import os
import time

from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

METRICS_PATH = "/metrics"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered by Django, by method, route (the URL pattern) and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from the first middleware to the response, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DB_CONNECTIONS = Gauge(
    "db_pool_connections",
    "This process's pooled database connections: open, and in use by a request.",
    ["alias", "state"],
    multiprocess_mode="liveall",
)
DB_WAITING = Gauge(
    "db_pool_requests_waiting",
    "Requests of this process waiting for a pooled connection.",
    ["alias"],
    multiprocess_mode="liveall",
)
WEBSOCKETS = Gauge(
    "websocket_connections",
    "WebSockets open (accepted and not yet closed).",
    multiprocess_mode="livesum",
)
CHANNEL_LAYER_ERRORS = Counter(
    "channel_layer_errors",
    "Sends to the channel layer that failed (Redis down, a full channel).",
    ["operation"],
)
THROTTLE_REJECTIONS = Counter(
    "throttle_rejections",
    "Requests refused by a rate limit (429), by the limit's scope.",
    ["scope"],
)


def route(request) -> str:
    """The URL pattern that answered (``api/profiles/users/<uuid:user_id>/``):
    bounded, unlike paths. A middleware that answers before URL resolution
    names its own (``request.route``: the health probes); ``unmatched`` is a
    request no pattern took."""
    if hasattr(request, "route"):
        return request.route
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "unmatched"


def observe_pools() -> None:
    """Set the connection gauges from each database alias's pool."""
    for alias in connections:
        pool = getattr(connections[alias], "pool", None)
        if pool is None:
            continue
        stats = pool.get_stats()
        size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
        DB_CONNECTIONS.labels(alias, "open").set(size)
        DB_CONNECTIONS.labels(alias, "in_use").set(size - available)
        DB_WAITING.labels(alias).set(stats.get("requests_waiting", 0))


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return settings.DEBUG
    sent = request.META.get("HTTP_AUTHORIZATION", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def metrics_response() -> HttpResponse:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """First in ``MIDDLEWARE``: times every request and counts it by route and
    status, and answers ``/metrics`` (before host validation and the HTTPS
    redirect, so a scraper may reach a process by its address)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == METRICS_PATH and _authorized(request):
            observe_pools()
            return metrics_response()
        start = time.perf_counter()
        response = self.get_response(request)
        answered_by = route(request)
        LATENCY.labels(answered_by).observe(time.perf_counter() - start)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(method, answered_by, response.status_code).inc()
        observe_pools()
        return response
