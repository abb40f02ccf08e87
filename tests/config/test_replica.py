"""Reads on a real streaming replica, writes on the primary, each client
reading its own writes, and a replica that fails costing no 5xx
(config/replica.py).

They need the replica `bench/replica.sh start` runs and
``DATABASE_REPLICA_URL`` pointing at it; `.ci/run` does both and sets
``REPLICA_TESTS=required``, so they never skip there."""

import os
import time

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from chatbot.models import Task
from config import replica
from tests.chatbot.factories import TaskFactory
from tests.conftest import closed_port, token_client
from tests.helpers import ok, results

if "replica" not in connections:
    if os.environ.get("REPLICA_TESTS") == "required":
        raise RuntimeError("REPLICA_TESTS=required but DATABASE_REPLICA_URL is unset")
    pytest.skip(
        "no replica: run bench/replica.sh start and set DATABASE_REPLICA_URL",
        allow_module_level=True,
    )

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

TASKS = "/api/chatbot/tasks/"


def on_replica(predicate, seconds: float = 10) -> None:
    """Wait until replication has brought ``predicate`` true on the replica."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.02)


def test_the_replica_alias_is_a_server_in_recovery():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (False,)


def test_a_client_reads_its_write_at_once_and_others_read_the_replica(user):
    client = token_client(user)
    with CaptureQueriesContext(connections["replica"]) as on_the_replica:
        created = ok(client.post(TASKS, {"title": "buy milk"}), 201)
        # Read back at once: the write's window sends it to the primary.
        assert [t["id"] for t in results(client.get(TASKS))] == [created["id"]]
    assert len(on_the_replica) == 0
    # Another client of the same user (another token: nothing written) reads
    # the replica, once replication has the row.
    on_replica(lambda: Task.objects.using("replica").filter(pk=created["id"]).exists())
    other = APIClient()
    other.force_authenticate(user)
    with CaptureQueriesContext(connections["replica"]) as on_the_replica:
        assert [t["id"] for t in results(other.get(TASKS))] == [created["id"]]
    assert any('"tasks"' in query["sql"] for query in on_the_replica.captured_queries)


def test_the_window_after_a_write_ends(user, settings):
    settings.READ_YOUR_WRITES_SECONDS = 1
    client = token_client(user)
    ok(client.post(TASKS, {"title": "x"}), 201)
    time.sleep(1.2)
    with CaptureQueriesContext(connections["replica"]) as on_the_replica:
        ok(client.get(TASKS))
    assert on_the_replica.captured_queries


def test_with_redis_down_every_read_goes_to_the_primary(user, redis_down):
    """No client's writes can be remembered, so none may read a replica that
    may lag behind them: the service answers as it does without a replica."""
    writer = token_client(user)
    writer.raise_request_exception = False  # a 500 is an answer, as a server's
    created = ok(writer.post(TASKS, {"title": "buy milk"}), 201)
    reader = APIClient(raise_request_exception=False)
    reader.force_authenticate(user)
    with CaptureQueriesContext(connections["replica"]) as on_the_replica:
        for client in (writer, reader):
            response = client.get(TASKS)
            assert response.status_code == 200, response.content
            assert [t["id"] for t in results(response)] == [created["id"]]
    assert not on_the_replica.captured_queries


def test_migrations_and_writes_never_go_to_the_replica():
    router = replica.ReplicaRouter()
    assert router.allow_migrate("replica", "chatbot") is False
    assert router.allow_migrate("default", "chatbot") is True
    assert router.db_for_write(Task) == "default"


def test_a_replica_that_stops_answering_costs_no_5xx(user, settings, monkeypatch):
    settings.REPLICA_RETRY_SECONDS = 60
    task = TaskFactory(user=user, title="kept")
    on_replica(lambda: Task.objects.using("replica").filter(pk=task.pk).exists())
    client = APIClient(raise_request_exception=False)  # as a real server answers
    client.force_authenticate(user)
    with CaptureQueriesContext(connections["replica"]) as on_the_replica:
        assert [t["id"] for t in results(client.get(TASKS))] == [str(task.pk)]
    assert on_the_replica.captured_queries
    # The replica goes away mid-run: its address now refuses connections (a
    # pool is made anew for it, waiting a second for a connection).
    replica_connection = connections["replica"]
    replica_connection.close()
    close_pool(replica_connection)
    monkeypatch.setitem(replica_connection.settings_dict, "PORT", closed_port())
    if pool := replica_connection.settings_dict["OPTIONS"].get("pool"):
        monkeypatch.setitem(
            replica_connection.settings_dict["OPTIONS"], "pool", {**pool, "timeout": 1}
        )
    monkeypatch.setattr(replica, "_down_until", 0.0)
    for _ in range(3):
        response = client.get(TASKS)
        assert response.status_code == 200, response.content
        assert [t["id"] for t in results(response)] == [str(task.pk)]
    assert replica._down_until > time.monotonic()  # left alone for a while
    replica_connection.close()
    close_pool(replica_connection)  # the next test's pool has the real address


def close_pool(connection) -> None:
    """Close ``connection``'s pool (DB_POOL, the default): the connections it
    holds would go on answering whatever its settings now say."""
    if connection.pool:
        connection.close_pool()
