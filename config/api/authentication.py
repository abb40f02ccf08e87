"""Token authentication without a query per request (settings'
``DEFAULT_AUTHENTICATION_CLASSES``).

DRF's ``TokenAuthentication`` reads the token and its user from the database on
every request, and Django's ``ModelBackend`` then reads the user's permissions
(their own and their groups', two queries) on every request that checks one.
Here both are cached (in Redis when ``REDIS_URL`` is set) for
``TOKEN_CACHE_SECONDS``, under a hash of the token: the user's fields the API
needs, and the permissions as ``user.get_all_permissions()`` gives them (not
for superusers, who have every permission anyway).

**Revocation wins every race.** Beside each entry the cache holds the token's
*stamp*. An entry is filled with the stamp read *before* the database was, and
is good only while the stamp is still the same. Deleting the token, saving its
user (deactivated, made staff, ...), or a permission reaching or leaving the
user (a permission or group given or taken, a group's permissions changed, a
group or permission deleted) changes the stamp, through the receivers below
(connected in ``config.apps``): at once to ``PENDING``, under which nothing is
read from the cache or written to it, and when the transaction commits to a
new random value. So:

- a request that read the old rows before the commit, however late it writes
  its entry, writes it under a stamp that is no longer current: nobody uses it;
- between the change and its commit every request reads the database, which
  answers as the transaction stands (the old rows until it commits).

A stamp lives ``2 * TOKEN_CACHE_SECONDS``, and an entry is not written by a
request that took ``TOKEN_CACHE_SECONDS`` or more to read the database: an
entry never outlives the stamp that makes it stale (Redis must not evict keys
with an expiry before they expire: ``maxmemory-policy noeviction``, its
default). Two revocations of one user committing within microseconds of each
other are the one case left: the second's commit and its new stamp are not
one step, so a request in between may use what the first's stamp allowed.

A change made around Django's signals (``QuerySet.update()``, raw SQL) is seen
within ``TOKEN_CACHE_SECONDS``. While Redis is unreachable, authentication
reads the database as DRF does.
"""

import contextlib
import hashlib
import logging
import secrets
import time

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


def _cache_keys(token_key: str) -> tuple[str, str]:
    """The keys of a token's entry and of its stamp."""
    # v3: the entry carries the stamp it was read under.
    digest = hashlib.sha256(token_key.encode()).hexdigest()
    return "auth:token:v3:" + digest, "auth:token:stamp:" + digest


# The stamp from a change until its transaction commits: no entry is used or
# written meanwhile.
PENDING = "pending"


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        entry_key, stamp_key = _cache_keys(key)
        try:
            found = cache.get_many([entry_key, stamp_key])
        except RedisError:
            logger.warning("Redis unreachable: tokens are checked in the database")
            return super().authenticate_credentials(key)
        stamp, cached = found.get(stamp_key), found.get(entry_key)
        fields = _cached_fields()
        if cached is not None and cached[0] == stamp and stamp != PENDING:
            _, values, permissions = cached
            user = get_user_model().from_db("default", fields, values)
            if permissions is not None:
                user._perm_cache = set(permissions)  # what ModelBackend reads
            return user, self.get_model()(key=key, user=user)
        started = time.monotonic()
        user, token = super().authenticate_credentials(key)
        if stamp == PENDING:
            return user, token
        values = [getattr(user, name) for name in fields]
        permissions = None if user.is_superuser else sorted(user.get_all_permissions())
        if time.monotonic() - started < settings.TOKEN_CACHE_SECONDS:
            with contextlib.suppress(RedisError):  # went down since the get
                cache.set(
                    entry_key,
                    [stamp, values, permissions],
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
    """New stamps for the tokens ``keys``: ``PENDING`` now, a new random one
    when the transaction commits (at once outside one)."""
    if not keys:
        return
    stamp_keys = [_cache_keys(key)[1] for key in keys]

    def stamp(value: str) -> None:
        try:
            cache.set_many(
                dict.fromkeys(stamp_keys, value),
                timeout=2 * settings.TOKEN_CACHE_SECONDS,
            )
        except RedisError:
            logger.warning("Redis unreachable: cached tokens expire on their own")

    stamp(PENDING)
    transaction.on_commit(lambda: stamp(secrets.token_hex(8)))
