"""Service accounts: users a program (a bot, a job) signs in as with a token,
holding the model permissions of whole apps through one group per app."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from rest_framework.authtoken.models import Token


def app_service_group(app_label: str) -> Group:
    """The group ``<app> service``, holding every permission of ``app_label``'s
    models (its custom ones too)."""
    config = apps.get_app_config(app_label)  # LookupError for an unknown app
    group, _ = Group.objects.get_or_create(name=f"{config.label} service")
    group.permissions.set(Permission.objects.filter(content_type__app_label=app_label))
    return group


@transaction.atomic
def service_account(username: str, app_labels: list[str]) -> Token:
    """The user ``username`` (made, without a password, if missing: it signs
    in by token only), not staff, in the service group of each app; its API
    token."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@service.invalid"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(*(app_service_group(label) for label in app_labels))
    token, _ = Token.objects.get_or_create(user=user)
    return token
