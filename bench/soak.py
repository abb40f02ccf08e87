"""Soak: minutes of mixed reads, writes and WebSockets against real servers
while the database's connections are killed and Redis stops.

Run as the README's production section says: daphne (config.asgi: HTTP and
the sockets) and gunicorn (config.wsgi: HTTP, 2 sync workers, with
PROMETHEUS_MULTIPROC_DIR and config/gunicorn.py), each with the default
pool, on a database of the soak's own (created and migrated; dropped
afterwards) and a redis-server it starts on a free port. Meanwhile:

- at 25 % and 65 % of the run, every backend of that database is killed
  (pg_terminate_backend);
- at 45 %, its Redis stops for 5 s, then starts again.

The clients: HTTP workers sending reads (the users list, a user's tasks, a
room's messages) and writes (a task, a room message), each write that gets
its 201 recorded with its id; and sockets in the room, each sending a room
message every second (acknowledged by ``room.message.sent`` with its id),
reconnecting when their socket closes.

It prints requests, 5xx (and how many were in flight within a second of a
kill), writes acknowledged and found afterwards, the most connections the
servers held (pg_stat_activity, sampled every 0.1 s), the servers' memory
(RSS, start and end) and what their /metrics say. It exits non-zero when a
write acknowledged is missing, when the connections ever exceeded the
budget (each process's DB_POOL_SIZE), or on a 5xx outside a kill.

    .venv/bin/python bench/soak.py --duration 300   # five minutes
    .venv/bin/python bench/soak.py --ci             # 30 s, as .ci/run runs it
"""

import argparse
import asyncio
import contextlib
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx2
import orjson
import psycopg
import websockets
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
POOL_SIZE = 4
GUNICORN_WORKERS = 2
METRICS_TOKEN = "soak-metrics-token"  # noqa: S105
KILL_SLACK = 1.0  # seconds around a kill in which a request may fail
REDIS_DOWN = 5.0
USERS = 10  # one room holds them all (SAFETY_ROOM_CAPACITY)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-Atqc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def rss_mib(pid: int) -> float:
    """The resident memory of ``pid`` and its children, in MiB."""
    pids, total = [pid], 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    pids.append(int(entry.name))
    for one in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


# --- the database and its users ------------------------------------------------------


def setup() -> None:
    """In a child process with Django set up: migrate, then the users, their
    tokens and one room they are all members of; prints them as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from profiles.models import User
    from safety import services

    call_command("migrate", verbosity=0)
    users = [
        User.objects.create(username=f"soak-{n}", email=f"soak-{n}@example.org")
        for n in range(USERS)
    ]
    room = services.room_create(owner=users[0], room_name="soak")
    for user in users[1:]:
        services.room_join(room=room, user=user)
    people = [
        {"token": Token.objects.create(user=user).key, "user": str(user.pk)}
        for user in users
    ]
    sys.stdout.buffer.write(orjson.dumps({"room": room.pk, "people": people}) + b"\n")


class Servers:
    """The soak's redis-server, daphne and gunicorn."""

    def __init__(self, database: str, directory: Path):
        self.database, self.directory = database, directory
        self.redis_port = free_port()
        self.ports = {"daphne": free_port(), "gunicorn": free_port()}
        self.redis = None
        self.processes = {}

    def env(self, name: str) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": f"{SERVER}/{self.database}?application_name=soak-{name}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DEBUG": "false",
            "SECRET_KEY": "soak-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "CRITICAL",
            "DB_POOL_SIZE": str(POOL_SIZE),
            "METRICS_TOKEN": METRICS_TOKEN,
            # Each simulated user writes far faster than a person: the soak
            # measures survival, not the per-user limits (their checks run).
            "MESSAGE_RATE": "1000000/second",
            "MESSAGE_BURST": "1000000",
            "WRITE_RATE": "1000000/second",
            "WRITE_BURST": "1000000",
            "PYTHONPATH": str(ROOT),
        }

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self._wait(self.redis_port, self.redis)

    def stop_redis(self) -> None:
        self.redis.terminate()
        self.redis.wait(10)

    def start(self) -> None:
        self.start_redis()
        metrics_dir = self.directory / "metrics"
        metrics_dir.mkdir()
        commands = {
            "daphne": [sys.executable, "-m", "config.server", "-b", "127.0.0.1", "-p",
                       str(self.ports["daphne"]), "config.asgi:application"],
            "gunicorn": [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py",
                         "config.wsgi", "--bind", f"127.0.0.1:{self.ports['gunicorn']}",
                         "--workers", str(GUNICORN_WORKERS)],
        }  # fmt: skip
        for name, command in commands.items():
            env = self.env(name)
            if name == "gunicorn":
                env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
            log = open(self.directory / f"{name}.log", "wb")  # noqa: SIM115
            self.processes[name] = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=log, stderr=log
            )
        for name, process in self.processes.items():
            self._wait(self.ports[name], process)

    @staticmethod
    def _wait(port: int, process) -> None:
        deadline = time.monotonic() + 60
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=1),
            ):
                return
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"a server on port {port} did not start")
            time.sleep(0.1)

    def budget(self) -> int:
        return POOL_SIZE * (1 + GUNICORN_WORKERS)

    def memory(self) -> dict[str, float]:
        return {name: rss_mib(p.pid) for name, p in self.processes.items()}

    def stop(self) -> None:
        for process in [*self.processes.values(), self.redis]:
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Connections(threading.Thread):
    """The servers' connections to the soak's database, every 0.1 s."""

    def __init__(self, database: str):
        super().__init__(daemon=True)
        self.database, self.most, self.done = database, Counter(), threading.Event()

    def run(self):
        url = f"{SERVER}/postgres?application_name=soak-monitor"
        while not self.done.is_set():
            with (
                contextlib.suppress(psycopg.Error),
                psycopg.connect(url, autocommit=True) as conn,
            ):
                while not self.done.wait(0.1):
                    conn.execute("SELECT pg_stat_clear_snapshot()")
                    rows = conn.execute(
                        "SELECT application_name, count(*) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name LIKE 'soak-%%' "
                        "GROUP BY 1",
                        [self.database],
                    ).fetchall()
                    counts = dict(rows)
                    counts["all"] = sum(counts.values())
                    for name, count in counts.items():
                        self.most[name] = max(self.most[name], count)


# --- the load ------------------------------------------------------------------------


class Soak:
    def __init__(self, servers: Servers, data: dict, duration: float, workers: int):
        self.servers, self.duration, self.workers = servers, duration, workers
        self.room, self.people = data["room"], data["people"]
        self.statuses = Counter()
        self.failures = []  # (started, ended, what)
        self.faults = []  # (started, ended, what)
        self.acked = {"task": set(), "room message": set()}
        self.socket_events = Counter()
        self.end = 0.0

    def near_a_kill(self, started: float, ended: float) -> bool:
        return any(
            what == "kill" and started <= end + KILL_SLACK and ended >= begin - 0.1
            for begin, end, what in self.faults
        )

    async def http_worker(self, number: int) -> None:
        name = "daphne" if number % 2 else "gunicorn"
        base = f"http://127.0.0.1:{self.servers.ports[name]}"
        rng = random.Random(number)  # noqa: S311
        async with httpx2.AsyncClient(base_url=base, timeout=30) as client:
            while time.monotonic() < self.end:
                person = rng.choice(self.people)
                headers = {"Authorization": f"Token {person['token']}"}
                kind = rng.random()
                started = time.monotonic()
                try:
                    if kind < 0.2:
                        response = await client.post(
                            "/api/chatbot/tasks/",
                            json={"title": f"soak {number} {started}"},
                            headers=headers,
                        )
                        acked = "task"
                    elif kind < 0.3:
                        response = await client.post(
                            f"/api/safety/chat-rooms/{self.room}/messages/",
                            json={"message": f"http {number} {started}"},
                            headers=headers,
                        )
                        acked = "room message"
                    else:
                        path = rng.choice(
                            [
                                "/api/profiles/users/",
                                "/api/chatbot/tasks/",
                                f"/api/safety/chat-rooms/{self.room}/messages/",
                            ]
                        )
                        response = await client.get(path, headers=headers)
                        acked = None
                except httpx2.TransportError as exc:
                    self.statuses["no answer"] += 1
                    self.failures.append((started, time.monotonic(), repr(exc)))
                    continue
                self.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    self.failures.append(
                        (started, time.monotonic(), f"{response.status_code} {name}")
                    )
                elif acked and response.status_code == 201:
                    self.acked[acked].add(response.json()["id"])

    async def socket_client(self, person: dict) -> None:
        url = (
            f"ws://127.0.0.1:{self.servers.ports['daphne']}/ws/?token={person['token']}"
        )
        while time.monotonic() < self.end:
            try:
                async with websockets.connect(url, open_timeout=10) as ws:
                    self.socket_events["opened"] += 1
                    await ws.send(
                        orjson.dumps(
                            {"type": "subscribe", "room_id": self.room}
                        ).decode()
                    )
                    sender = asyncio.create_task(self._send_messages(ws))
                    try:
                        async for frame in ws:
                            event = orjson.loads(frame)
                            self.socket_events[event["type"]] += 1
                            if event["type"] == "room.message.sent":
                                self.acked["room message"].add(event["message"]["id"])
                    finally:
                        sender.cancel()
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            if time.monotonic() < self.end:
                self.socket_events["reconnects"] += 1
                await asyncio.sleep(0.5)

    async def _send_messages(self, ws) -> None:
        number = 0
        while time.monotonic() < self.end:
            await asyncio.sleep(1)
            number += 1
            event = {"type": "room.message.send", "room_id": self.room,
                     "message": f"socket {number}"}  # fmt: skip
            await ws.send(orjson.dumps(event).decode())
        await ws.close()

    async def faults_schedule(self, start: float) -> None:
        async def at(fraction: float):
            await asyncio.sleep(
                max(0.0, start + fraction * self.duration - time.monotonic())
            )

        for fraction, fault in ((0.25, "kill"), (0.45, "redis"), (0.65, "kill")):
            await at(fraction)
            begin = time.monotonic()
            if fault == "kill":
                killed = await asyncio.to_thread(
                    psql,
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    f"WHERE datname = '{self.servers.database}'",
                )
                print(f"  {begin - start:6.1f} s: killed {killed} database connections")
            else:
                await asyncio.to_thread(self.servers.stop_redis)
                print(f"  {begin - start:6.1f} s: Redis stopped")
                await asyncio.sleep(REDIS_DOWN)
                await asyncio.to_thread(self.servers.start_redis)
                print(f"  {time.monotonic() - start:6.1f} s: Redis started again")
            self.faults.append((begin, time.monotonic(), fault))

    async def run(self) -> None:
        start = time.monotonic()
        self.end = start + self.duration
        await asyncio.gather(
            self.faults_schedule(start),
            *(self.http_worker(n) for n in range(self.workers)),
            *(self.socket_client(person) for person in self.people[:6]),
        )


def scrape(port: int) -> dict:
    response = httpx2.get(
        f"http://127.0.0.1:{port}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    )
    response.raise_for_status()
    totals = Counter()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "http_requests_total":
                totals[f"requests {sample.labels['status'][0]}xx"] += sample.value
            elif sample.name in ("channel_layer_errors_total", "websocket_connections"):
                totals[sample.name] += sample.value
            elif sample.name == "db_pool_connections":
                key = f"db_pool_connections {sample.labels['state']}"
                totals[key] += sample.value
    return dict(totals)


def found(database: str, acked: dict[str, set]) -> dict[str, int]:
    """How many of the writes acknowledged are in the database."""
    tables = {"task": "tasks", "room message": "chat_room_messages"}
    with psycopg.connect(f"{SERVER}/{database}") as conn:
        return {
            kind: conn.execute(
                f"SELECT count(*) FROM {tables[kind]} WHERE id::text = ANY(%s)",
                [[str(i) for i in ids]],
            ).fetchone()[0]
            for kind, ids in acked.items()
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds")
    parser.add_argument("--workers", type=int, default=16, help="HTTP clients")
    parser.add_argument("--ci", action="store_true", help="30 s, 8 HTTP clients")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup()
        return 0
    if args.ci:
        args.duration, args.workers = 30, 8
    database = f"soak_{os.getpid()}"
    psql(f"CREATE DATABASE {database}")
    directory = Path(tempfile.mkdtemp(prefix="soak-"))
    servers = Servers(database, directory)
    monitor = Connections(database)
    try:
        made = subprocess.run(
            [sys.executable, __file__, "--setup"],
            env={**servers.env("setup"), "REDIS_URL": ""},
            cwd=ROOT,
            capture_output=True,
        )
        if made.returncode:
            raise SystemExit(made.stderr.decode()[-3000:])
        data = orjson.loads(made.stdout.splitlines()[-1])
        servers.start()
        memory_start = servers.memory()
        monitor.start()
        soak = Soak(servers, data, args.duration, args.workers)
        print(f"soak: {args.duration:g} s, {args.workers} HTTP clients, 6 sockets")
        asyncio.run(soak.run())
        time.sleep(0.5)
        monitor.done.set()
        memory_end = servers.memory()
        metrics = {name: scrape(port) for name, port in servers.ports.items()}
        stored = found(database, soak.acked)
    finally:
        monitor.done.set()
        servers.stop()
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return report(
        args, servers, soak, monitor, memory_start, memory_end, metrics, stored
    )


def report(args, servers, soak, monitor, memory_start, memory_end, metrics, stored):
    fifth = soak.failures
    at_kill = [f for f in fifth if soak.near_a_kill(f[0], f[1])]
    elsewhere = [f for f in fifth if f not in at_kill]
    acked = {kind: len(ids) for kind, ids in soak.acked.items()}
    budget = servers.budget()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    statuses = dict(sorted(soak.statuses.items(), key=str))
    print(f"requests: {sum(statuses.values())} {statuses}")
    print(f"5xx or no answer: {len(fifth)} ({len(at_kill)} in flight at a kill)")
    for _started, _ended, what in elsewhere[:10]:
        print(f"  outside a kill: {what}")
    print(f"sockets: {dict(soak.socket_events)}")
    print(f"writes acknowledged: {acked}; found afterwards: {stored}")
    print(f"connections (max): {dict(monitor.most)}; budget {budget}")
    memory = ", ".join(
        f"{name} {memory_start[name]:.0f} -> {memory_end[name]:.0f}"
        for name in memory_start
    )
    print(f"memory MiB (start -> end): {memory}")
    for name, values in metrics.items():
        print(f"/metrics of {name}: {values}")
    failed = []
    if acked != stored:
        failed.append("a write acknowledged is missing")
    if monitor.most["all"] > budget:
        failed.append(f"{monitor.most['all']} connections, over the budget of {budget}")
    if elsewhere:
        failed.append(f"{len(elsewhere)} 5xx outside a kill")
    if not monitor.most["all"] or not sum(acked.values()):
        failed.append("nothing was measured")
    print("FAILED: " + "; ".join(failed) if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
