"""Token authentication without a query per request (settings'
``DEFAULT_AUTHENTICATION_CLASSES``).

DRF's ``TokenAuthentication`` reads the token and its user from the database on
every request. Here the user's fields the API needs are cached (in Redis when
``REDIS_URL`` is set) for ``TOKEN_CACHE_SECONDS``, under a hash of the token.
The entry goes at once when the token is deleted (revoked) or its user is
saved (deactivated, made staff, ...): ``forget_token`` and ``forget_user``,
connected in ``config.apps``. A change made around Django's signals
(``QuerySet.update()``, raw SQL) is seen within ``TOKEN_CACHE_SECONDS``. While
Redis is unreachable, authentication reads the database as DRF does.
"""

import contextlib
import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework import authentication

logger = logging.getLogger(__name__)

# What request.user carries when it comes from the cache; any other field is
# loaded from the database if a view reads it.
USER_FIELDS = {"id", "username", "is_active", "is_staff", "is_superuser"}


def _cached_fields() -> list[str]:
    """``USER_FIELDS`` in the model's field order, as ``Model.from_db`` wants."""
    fields = get_user_model()._meta.concrete_fields
    return [field.attname for field in fields if field.attname in USER_FIELDS]


def _cache_key(token_key: str) -> str:
    return "auth:token:" + hashlib.sha256(token_key.encode()).hexdigest()


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        try:
            cached = cache.get(_cache_key(key))
        except RedisError:
            logger.warning("Redis unreachable: tokens are checked in the database")
            return super().authenticate_credentials(key)
        fields = _cached_fields()
        if cached is not None:
            user = get_user_model().from_db("default", fields, cached)
            return user, self.get_model()(key=key, user=user)
        user, token = super().authenticate_credentials(key)
        values = [getattr(user, name) for name in fields]
        with contextlib.suppress(RedisError):  # went down since the get: no cache
            cache.set(_cache_key(key), values, timeout=settings.TOKEN_CACHE_SECONDS)
        return user, token


def forget_token(sender, instance, **kwargs) -> None:
    """``post_delete`` of a token: it authenticates nobody from now on."""
    _forget([instance.key])


def forget_user(sender, instance, **kwargs) -> None:
    """``post_save`` of a user: their token's cached fields are stale."""
    # Imported here: settings load this module before the models are ready.
    from rest_framework.authtoken.models import Token

    _forget(Token.objects.filter(user_id=instance.pk).values_list("key", flat=True))


def _forget(keys) -> None:
    try:
        cache.delete_many([_cache_key(key) for key in keys])
    except RedisError:
        logger.warning("Redis unreachable: cached tokens expire on their own")
