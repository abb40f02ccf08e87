"""Fixtures every app's tests share: API clients, users, and speed settings."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.profiles.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_client(user) -> APIClient:
    """An API client that authenticates as ``user`` with a real API token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def api_client(user):
    """Authenticated as the ``user`` fixture."""
    return token_client(user)


@pytest.fixture
def staff_client(staff_user):
    """Authenticated as a superuser."""
    return token_client(staff_user)
