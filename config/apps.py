from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_save


class PlatformConfig(AppConfig):
    """``config`` as an app: the platform's templates, commands and receivers."""

    name = "config"
    verbose_name = "Platform"

    def ready(self):
        from config.api.authentication import forget_token, forget_user

        post_delete.connect(forget_token, sender="authtoken.Token")
        post_save.connect(forget_user, sender=settings.AUTH_USER_MODEL)
