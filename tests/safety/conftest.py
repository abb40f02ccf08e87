"""The channel layer of the tests of sockets (test_realtime, test_live_socket)."""

import os
import uuid

import pytest
import redis

from config.settings import channel_layers_config
from tests.conftest import REDIS_URL


@pytest.fixture
def layer(settings):
    """The Redis channel layer under a prefix of this test's own (so runs
    sharing a Redis never hear each other), or the in-memory layer where
    no Redis answers; CI sets REDIS_URL and must get Redis."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        assert "REDIS_URL" not in os.environ, f"no Redis at {REDIS_URL}"
        settings.CHANNEL_LAYERS = channel_layers_config(None)
        return "memory"
    settings.CHANNEL_LAYERS = channel_layers_config(REDIS_URL, f"t{uuid.uuid4().hex}")
    return "redis"
