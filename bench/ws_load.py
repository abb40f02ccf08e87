"""WebSocket fan-out under load (docs/realtime.md, docs/benchmarks.md).

    .venv/bin/python bench/ws_load.py [--sockets 1000] [--room-size 10]
        [--rate 50] [--duration 20] [--server daphne|uvicorn|granian|all]

1. PostgreSQL database ``bench_ws``: created and migrated when missing, then
   given ``--sockets`` users with API tokens, in rooms of ``--room-size``
   (reused when it already has them).
2. One server process serving config.asgi (DEBUG off, Redis channel layer
   and cache), on 127.0.0.1 only.
3. ``--sockets`` clients connect (``/ws/?token=``), each subscribes to its
   room; then room messages are sent over the sockets at ``--rate`` per
   second in all, from senders taken in turn, for ``--duration`` seconds.
   Each message goes through the service (stored, then pushed after commit)
   and must reach every socket of its room, the sender's included.
4. Reported per server: sockets, messages sent, deliveries expected and
   received, lost (expected - received, after a drain of 10 s), fan-out
   latency p50 / p99 / max (send to each delivery, one clock: the clients
   run in this process), the sender's acknowledgement p50 / p99, and the
   server's CPU time per message (from /proc, sending and draining).

It exits non-zero when a message is lost or refused (CI runs a small load).
Everything is loopback; the clients and the server share this machine's CPUs,
so the figures are the whole system's, clients included.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson
import websockets

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "bench_ws"
REDIS = "redis://127.0.0.1:6379/3"
PORT = 8031
SERVERS = ["daphne", "uvicorn", "granian"]
DRAIN = 10.0  # seconds to wait for the last deliveries


def server_command(server: str) -> list[str]:
    app = "config.asgi:application"
    if server == "daphne":  # the production command (README)
        return [
            sys.executable,
            "-m",
            "config.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(PORT),
            app,
        ]
    if server == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(PORT),
            "--ws",
            "websockets",
            "--ws-max-size",  # config.server's limit (WEBSOCKET_MAX_MESSAGE_SIZE)
            str(2**20),
            "--lifespan",
            "on",
            "--log-level",
            "warning",
        ]
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--port",
            str(PORT),
            "--log-level",
            "warning",
            app,
        ]
    raise SystemExit(f"unknown server {server}")


def environment() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "REDIS_URL": REDIS,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECRET_KEY": "bench-" + "x" * 50,
        # Fan-out is measured, not a sender's MESSAGE_RATE or WRITE_RATE (few
        # sockets at a high --rate would send faster than a person).
        "MESSAGE_RATE": "1000000/second",
        "MESSAGE_BURST": "1000000",
        "WRITE_RATE": "1000000/second",
        "WRITE_BURST": "1000000",
    }


def prepare(sockets: int, room_size: int) -> list[tuple[str, int]]:
    """The database, and each socket's (token, room id)."""
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
         f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if not exists:
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c",
             f"CREATE DATABASE {DATABASE}"],
            check=True,
        )  # fmt: skip
    result = subprocess.run(
        [sys.executable, __file__, "--setup", str(sockets), str(room_size)],
        env=environment(),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return [tuple(pair) for pair in orjson.loads(result.stdout.splitlines()[-1])]


def setup(sockets: int, room_size: int) -> None:
    """In a child process with Django set up: migrate, then the users,
    tokens, rooms and memberships the run needs (idempotent)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from profiles.models import User
    from safety.models import ChatRoom, ChatRoomMember, Role

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        names = [f"ws-{n:05d}" for n in range(sockets)]
        have = set(User.objects.filter(username__in=names).values_list("username"))
        User.objects.bulk_create(
            [
                User(username=name, email=f"{name}@example.org")
                for name in names
                if (name,) not in have
            ]
        )
        users = list(User.objects.filter(username__in=names).order_by("username"))
        Token.objects.bulk_create(
            [Token(user=user, key=Token.generate_key()) for user in users],
            ignore_conflicts=True,
        )
        tokens = dict(
            Token.objects.filter(user__in=users).values_list("user_id", "key")
        )
        pairs = []
        for start in range(0, len(users), room_size):
            group = users[start : start + room_size]
            name = f"ws-room-{start // room_size:04d}-of-{room_size}"
            room, created = ChatRoom.objects.get_or_create(
                room_name=name,
                owner=group[0],
                defaults={"max_participants": room_size},
            )
            if created:
                ChatRoomMember.objects.bulk_create(
                    [
                        ChatRoomMember(
                            room=room,
                            user=user,
                            role=Role.OWNER if user == group[0] else Role.USER,
                        )
                        for user in group
                    ]
                )
            pairs += [(tokens[user.pk], room.pk) for user in group]
    sys.stdout.buffer.write(orjson.dumps(pairs) + b"\n")


class Run:
    """The clients of one run, in this process's event loop."""

    def __init__(self, pairs, rate: float, duration: float, cpu_ms):
        self.cpu_ms = cpu_ms
        self.pairs = pairs
        self.rate = rate
        self.duration = duration
        self.room_of = [room for _, room in pairs]
        self.room_size = Counter(self.room_of)
        self.expected = 0
        self.sent_at: dict[str, float] = {}
        self.acked: list[float] = []
        self.latencies: list[float] = []
        self.errors: list[str] = []

    async def connect(self, token: str, room: int):
        url = f"ws://127.0.0.1:{PORT}/ws/?token={token}"
        socket = await websockets.connect(url, max_queue=None, open_timeout=60)
        assert orjson.loads(await socket.recv())["type"] == "hello"
        await socket.send(orjson.dumps({"type": "subscribe", "room_id": room}).decode())
        while orjson.loads(await socket.recv())["type"] != "subscribed":
            pass  # presence.changed of members connecting meanwhile
        return socket

    async def listen(self, socket) -> None:
        async for frame in socket:
            now = time.perf_counter()
            event = orjson.loads(frame)
            kind = event["type"]
            if kind == "room.message":
                sent = self.sent_at.get(event["message"]["message"])
                if sent is not None:
                    self.latencies.append(now - sent)
            elif kind == "room.message.sent":
                self.acked.append(now - self.sent_at[event["ref"]])
            elif kind == "error":
                self.errors.append(event["detail"])

    async def go(self) -> dict:
        opening = asyncio.Semaphore(50)

        async def open_one(pair):
            async with opening:
                return await self.connect(*pair)

        started = time.perf_counter()
        sockets = await asyncio.gather(*(open_one(pair) for pair in self.pairs))
        connected = time.perf_counter() - started
        listeners = [asyncio.create_task(self.listen(s)) for s in sockets]
        count = int(self.rate * self.duration)
        cpu_before = self.cpu_ms()
        begin = time.perf_counter()
        for n in range(count):
            delay = begin + n / self.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sender = n * 7919 % len(sockets)  # spread over the rooms
            text = f"m{n}"
            self.sent_at[text] = time.perf_counter()
            event = {"type": "room.message.send", "ref": text, "message": text}
            await sockets[sender].send(
                orjson.dumps({**event, "room_id": self.room_of[sender]}).decode()
            )
            self.expected += self.room_size[self.room_of[sender]]
        sending = time.perf_counter() - begin
        deadline = time.perf_counter() + DRAIN
        while len(self.latencies) < self.expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        cpu = self.cpu_ms() - cpu_before
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
        return {
            "connect_s": connected,
            "sent": count,
            "send_s": sending,
            "expected": self.expected,
            "received": len(self.latencies),
            "errors": len(self.errors),
            "cpu_per_message": cpu / count,
        }


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def server_cpu_ms(group: int) -> float:
    """CPU time (user + system) of the server's processes so far, in ms."""
    pids = subprocess.run(
        ["pgrep", "-g", str(group)], capture_output=True, text=True
    ).stdout.split()
    ticks = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def measure(server: str, pairs, rate: float, duration: float) -> dict:
    # Groups left by an earlier run's sockets (a killed server never said
    # goodbye) would cost every push: start from an empty channel layer.
    subprocess.run(
        ["redis-cli", "-u", REDIS, "flushdb"], check=True, capture_output=True
    )
    log = Path(tempfile.gettempdir()) / f"ws_load-{server}.log"
    process = subprocess.Popen(
        server_command(server),
        cwd=ROOT,
        env=environment(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise SystemExit(f"{server} did not start: {log}") from None
                time.sleep(0.05)
        run = Run(pairs, rate, duration, lambda: server_cpu_ms(process.pid))
        figures = asyncio.run(run.go())
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return {
        **figures,
        "server": server,
        "lost": figures["expected"] - figures["received"],
        "p50": percentile(run.latencies, 0.5),
        "p99": percentile(run.latencies, 0.99),
        "max": max(run.latencies, default=float("nan")) * 1000,
        "ack_p50": percentile(run.acked, 0.5),
        "ack_p99": percentile(run.acked, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50, help="messages per second")
    parser.add_argument("--duration", type=float, default=20, help="seconds")
    parser.add_argument("--server", default="daphne")
    args = parser.parse_args()
    if not 1 <= args.sockets <= 1000:
        raise SystemExit("--sockets: 1 to 1000 (this machine's bound)")
    servers = (
        ["daphne", "uvicorn", "granian"] if args.server == "all" else [args.server]
    )
    pairs = prepare(args.sockets, args.room_size)
    print(
        f"{len(pairs)} sockets in rooms of {args.room_size}, {args.rate:g} messages/s "
        f"for {args.duration:g} s; {os.cpu_count()} cores ({platform.machine()}), "
        f"Python {platform.python_version()}",
        flush=True,
    )
    print(
        "| server | sockets | connect (s) | messages | deliveries expected / received "
        "| lost | errors | fan-out p50 / p99 / max ms | ack p50 / p99 ms "
        "| server CPU ms / message |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---|---|---:|")
    failed = False
    for server in servers:
        r = measure(server, pairs, args.rate, args.duration)
        failed = failed or bool(r["lost"] or r["errors"])
        print(
            f"| {server} | {len(pairs)} | {r['connect_s']:.1f} | {r['sent']} "
            f"| {r['expected']} / {r['received']} | {r['lost']} | {r['errors']} "
            f"| {r['p50']:.1f} / {r['p99']:.1f} / {r['max']:.1f} "
            f"| {r['ack_p50']:.1f} / {r['ack_p99']:.1f} | {r['cpu_per_message']:.1f} |",
            flush=True,
        )
    if failed:
        raise SystemExit("messages were lost or refused")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--setup"]:
        setup(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
