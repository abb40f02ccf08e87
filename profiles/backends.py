"""Log in with a username or an email address (any letter case)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Case, Q, Value, When

from config.ratelimit import LoginAttempt


class UsernameOrEmailBackend(ModelBackend):
    """``ModelBackend`` that also accepts the email address as the username.

    An exact username match wins over an email match, so a username that looks
    like someone else's email still logs in its own user.

    Every door that checks a password comes here (the admin's login, the
    token endpoint), so failures are limited here, by client address and by
    account (``config.ratelimit.LoginAttempt``): over either, ``Throttled``
    is raised before the password is checked, and the door says when to try
    again (the API: a 429; the admin: a form error).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        attempt = LoginAttempt(request)
        user = (
            User.objects.filter(
                Q(username=username) | Q(pk__in=User.objects.with_email(username))
            )
            .order_by(Case(When(username=username, then=Value(0)), default=Value(1)))
            .first()
        )
        # An unknown name is counted as an account too, so a refusal does not
        # tell whether the account exists.
        attempt.account(str(user.pk) if user else username.casefold())
        if user is None:
            # Hash anyway, so the response time does not tell whether the
            # account exists (as ModelBackend does).
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            attempt.succeeded()
            return user
        return None
