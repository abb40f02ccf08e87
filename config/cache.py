"""Django's Redis cache backend, without a new client object per call."""

from django.core.cache.backends import redis


class _ClientPerPool(redis.RedisCacheClient):
    """Django builds a ``redis.Redis`` client for every cache call; redis-py
    fills some 340 response callbacks in each client's constructor (about
    0.2 ms, several times a request). One client per connection pool does the
    same work: clients are thread-safe and hold no connection themselves."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool
