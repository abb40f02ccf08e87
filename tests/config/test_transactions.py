"""One transaction per write request, none around reads; a failed write
request leaves nothing behind. And lazy loads fail on API paths in tests."""

import pytest
from rest_framework.test import APIClient

from profiles.models import Post
from tests.helpers import assert_error
from tests.profiles.factories import PostFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.config.fault_urls"),
]


@pytest.fixture
def client(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def test_reads_run_outside_a_transaction(client):
    assert client.get("/api/faults/transaction/").json() == {"atomic": False}


def test_writes_run_in_one(client):
    assert client.post("/api/faults/transaction/").json() == {"atomic": True}


def test_a_write_request_answered_with_a_4xx_writes_nothing(client):
    assert_error(client.post("/api/faults/refuse/"), 400, "invalid")
    assert not Post.objects.exists()


def test_a_write_request_that_crashes_writes_nothing(client):
    assert_error(client.post("/api/faults/crash/"), 500, "server_error")
    assert not Post.objects.exists()


def test_a_lazy_load_on_an_api_path_fails_the_test(client):
    PostFactory()
    response = client.get("/api/faults/lazy/")
    assert response.status_code == 500  # FieldFetchBlocked: tests/conftest.py
