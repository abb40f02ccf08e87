from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete


class PlatformConfig(AppConfig):
    """``config`` as an app: the platform's templates, commands and receivers;
    at start-up, the rate limits' settings are checked."""

    name = "config"
    verbose_name = "Platform"

    def ready(self):
        from django.contrib.auth.models import Group, Permission

        from config import ratelimit
        from config.api import authentication as auth

        ratelimit.check_settings()
        User = get_user_model()
        post_delete.connect(auth.forget_token, sender="authtoken.Token")
        post_save.connect(auth.forget_user, sender=settings.AUTH_USER_MODEL)
        for through in (
            User.user_permissions.through,
            User.groups.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(auth.forget_permissions, sender=through)
        for model in (Group, Permission):
            pre_delete.connect(auth.forget_holders, sender=model)
