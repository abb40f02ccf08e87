"""The replica router and middleware in the ordinary suite (config/replica.py):
a ``replica`` alias of the test database itself, as ``DATABASE_REPLICA_URL``
would configure one, with the primary standing in for the replica. Nothing
replicates, so these tests check which connection a request reads and what it
answers, not replication (tests/config/test_replica.py does that on a real
replica, in CI); they catch a fault of the middleware without one."""

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.conftest import token_client
from tests.helpers import ok, results

if "replica" in connections:  # a real one: tests/config/test_replica.py's
    pytest.skip("DATABASE_REPLICA_URL names a replica", allow_module_level=True)

TASKS = "/api/chatbot/tasks/"


@pytest.fixture(scope="class")
def replica_alias(django_db_setup):
    """A ``replica`` alias of the test database, for a class's tests: made
    before their database access starts, which checks the aliases they use."""
    default = dict(connections["default"].settings_dict)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(django_settings.DATABASES, "replica", default)
        yield
        replica = connections["replica"]
        replica.close()
        if replica.vendor == "postgresql":
            replica.close_pool()  # its sessions end, and the test database can go
        del connections["replica"]


@pytest.fixture
def replica(replica_alias, settings):
    """The ``replica`` connection, and the router that sends reads there."""
    settings.DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
    return connections["replica"]


def queries_on(alias, client, url):
    """GET ``url``; the response and the statements run on ``alias``."""
    with CaptureQueriesContext(connections[alias]) as queries:
        response = client.get(url)
    return response, [q["sql"] for q in queries.captured_queries]


def answers_with_redis_down(user) -> None:
    """A write and the reads after it, by the writer and by another client,
    answer as with Redis up, from the primary."""
    writer = token_client(user)
    writer.raise_request_exception = False  # a 500 is an answer, as a server's
    created = ok(writer.post(TASKS, {"title": "buy milk"}), 201)
    reader = APIClient(raise_request_exception=False)  # known by its address
    reader.force_authenticate(user)
    for client in (writer, reader):
        response, on_the_primary = queries_on("default", client, TASKS)
        assert response.status_code == 200, response.content
        assert [t["id"] for t in results(response)] == [created["id"]]
        assert any('"tasks"' in sql for sql in on_the_primary)


@pytest.mark.django_db(transaction=True)
def test_redis_down_without_a_replica(redis_down, user):
    answers_with_redis_down(user)


@pytest.mark.usefixtures("replica_alias")
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
class TestWithAReplica:
    def test_reads_go_to_the_replica_but_a_clients_own_after_it_writes(
        self, replica, user
    ):
        writer = token_client(user)
        created = ok(writer.post(TASKS, {"title": "buy milk"}), 201)
        response, on_the_replica = queries_on("replica", writer, TASKS)
        assert [t["id"] for t in results(response)] == [created["id"]]
        assert on_the_replica == []  # its own write: read on the primary
        reader = APIClient()  # another client: no token, known by its address
        reader.force_authenticate(user)
        response, on_the_replica = queries_on("replica", reader, TASKS)
        assert [t["id"] for t in results(response)] == [created["id"]]
        assert any('"tasks"' in sql for sql in on_the_replica)

    def test_redis_down_degrades_as_without_a_replica(self, replica, redis_down, user):
        """No client's writes can be remembered, so no client may read a
        replica that might lag behind them: every read goes to the primary."""
        answers_with_redis_down(user)
