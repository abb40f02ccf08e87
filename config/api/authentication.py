"""Token authentication without a query per request (settings'
``DEFAULT_AUTHENTICATION_CLASSES``).

DRF's ``TokenAuthentication`` reads the token and its user from the database on
every request, and Django's ``ModelBackend`` then reads the user's permissions
(their own and their groups', two queries) on every request that checks one.
Here both are cached (in Redis when ``REDIS_URL`` is set) for
``TOKEN_CACHE_SECONDS``, under a hash of the token: the user's fields the API
needs, and the permissions as ``user.get_all_permissions()`` gives them (not
for superusers, who have every permission anyway).

The entry goes at once when the token is deleted (revoked), its user is saved
(deactivated, made staff, ...), or a permission reaches or leaves the user (a
permission or group given or taken, a group's permissions changed, a group or
permission deleted): the receivers below, connected in ``config.apps``. Each
forgets now and again when the transaction commits, so a request that read the
old rows in between does not leave them cached. A change made around Django's
signals (``QuerySet.update()``, raw SQL) is seen within
``TOKEN_CACHE_SECONDS``. While Redis is unreachable, authentication reads the
database as DRF does.
"""

import contextlib
import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
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
    # v2: the entry holds the permissions too.
    return "auth:token:v2:" + hashlib.sha256(token_key.encode()).hexdigest()


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        try:
            cached = cache.get(_cache_key(key))
        except RedisError:
            logger.warning("Redis unreachable: tokens are checked in the database")
            return super().authenticate_credentials(key)
        fields = _cached_fields()
        if cached is not None:
            values, permissions = cached
            user = get_user_model().from_db("default", fields, values)
            if permissions is not None:
                user._perm_cache = set(permissions)  # what ModelBackend reads
            return user, self.get_model()(key=key, user=user)
        user, token = super().authenticate_credentials(key)
        values = [getattr(user, name) for name in fields]
        permissions = None if user.is_superuser else sorted(user.get_all_permissions())
        with contextlib.suppress(RedisError):  # went down since the get: no cache
            cache.set(
                _cache_key(key),
                [values, permissions],
                timeout=settings.TOKEN_CACHE_SECONDS,
            )
        return user, token


def forget_token(sender, instance, **kwargs) -> None:
    """``post_delete`` of a token: it authenticates nobody from now on."""
    _forget([instance.key])


def forget_user(sender, instance, **kwargs) -> None:
    """``post_save`` of a user: their token's cached fields are stale."""
    _forget_users([instance.pk])


def forget_permissions(sender, instance, action, model, pk_set, **kwargs) -> None:
    """``m2m_changed`` of users' permissions, users' groups or groups'
    permissions: the tokens of every user whose permissions this may change
    (on either side: ``user.groups.add(g)`` and ``g.user_set.add(user)`` are
    the same change). Before a clear, the rows cleared are still there."""
    from django.contrib.auth.models import Permission

    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    User = get_user_model()
    if pk_set and model is User:  # permission.user_set or group.user_set
        _forget_users(pk_set)
    elif pk_set and isinstance(instance, Permission):  # permission.group_set
        _forget_users(User.objects.filter(groups__in=pk_set).values("pk"))
    else:  # a user's permissions or groups, a group's permissions, a clear
        _forget_users(_users_of(instance))


def forget_holders(sender, instance, **kwargs) -> None:
    """``pre_delete`` of a group or a permission: its users lose it."""
    _forget_users(_users_of(instance))


def _users_of(instance):
    """The users whose permissions depend on ``instance`` (a user, a group or
    a permission): their ids, or a query of them."""
    from django.contrib.auth.models import Group, Permission

    User = get_user_model()
    if isinstance(instance, Group):
        return User.objects.filter(groups=instance).values("pk")
    if isinstance(instance, Permission):
        holders = Q(user_permissions=instance) | Q(groups__permissions=instance)
        return User.objects.filter(holders).values("pk")
    return [instance.pk]


def _forget_users(user_ids) -> None:
    # Imported here: settings load this module before the models are ready.
    from rest_framework.authtoken.models import Token

    _forget(list(Token.objects.filter(user__in=user_ids).values_list("key", flat=True)))


def _forget(keys) -> None:
    if not keys:
        return

    def delete() -> None:
        try:
            cache.delete_many([_cache_key(key) for key in keys])
        except RedisError:
            logger.warning("Redis unreachable: cached tokens expire on their own")

    delete()
    transaction.on_commit(delete)
