"""Log in with a username or an email address (any letter case)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Case, Q, Value, When


class UsernameOrEmailBackend(ModelBackend):
    """``ModelBackend`` that also accepts the email address as the username.

    An exact username match wins over an email match, so a username that looks
    like someone else's email still logs in its own user.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = (
            User.objects.filter(
                Q(username=username) | Q(pk__in=User.objects.with_email(username))
            )
            .order_by(Case(When(username=username, then=Value(0)), default=Value(1)))
            .first()
        )
        if user is None:
            # Hash anyway, so the response time does not tell whether the
            # account exists (as ModelBackend does).
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
