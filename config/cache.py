"""Django's Redis cache backend, without a new client object per call, and
with Lua scripts run on the cache's own connections (config.ratelimit)."""

from django.core.cache.backends import redis


class _ClientPerPool(redis.RedisCacheClient):
    """Django builds a ``redis.Redis`` client for every cache call; redis-py
    fills some 340 response callbacks in each client's constructor (about
    0.2 ms, several times a request). One client per connection pool does the
    same work: clients are thread-safe and hold no connection themselves."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._scripts = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def run_script(self, script: str, keys: list[str], args: list):
        client = self.get_client(write=True)
        runner = self._scripts.get(script)
        if runner is None:
            runner = self._scripts[script] = client.register_script(script)
        return runner(keys=keys, args=args, client=client)


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool

    def run_script(self, script: str, keys: list[str], args: list):
        """Run the Lua ``script`` on the server (EVALSHA; loaded the first
        time) over ``keys``, named as this cache names its own (prefix,
        version): atomic, in one round trip."""
        keys = [self.make_and_validate_key(key) for key in keys]
        return self._cache.run_script(script, keys, args)
