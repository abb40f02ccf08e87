"""The benchmark: the project's hot reads and writes against a bare WSGI +
psycopg baseline.

    bench/run [--scale 500] [--rounds 3] [--duration 10] [--server gunicorn]
              [--writes-only]

1. PostgreSQL database ``bench_s<scale>``: created, migrated and filled by
   ``seed_demo --scale`` when missing (scale 500: 10 000 users, a million
   posts and reactions, 200 000 room messages, 100 000 private messages,
   150 000 participation events, 50 000 conversations with 500 000
   messages, 10 000 feature vectors; about 4 minutes), reused otherwise
   (seed_demo adds nothing then).
2. The project (DEBUG off, Redis on, persistent connections) and
   ``bench/raw_app.py`` each under the same production server, workers and
   settings, on 127.0.0.1; both are checked to answer the same bodies.
3. EXPLAIN ANALYZE of the lightning tab for a typical and the heaviest user;
   EXPLAIN of every statement of every read (bench/explain.py): the run fails
   when one reads a big table whole instead of through an index.
4. Interleaved rounds: for each read, wrk against the project, then against
   the baseline; req/s, p50, p99, and the CPU per request of the server's
   processes and of PostgreSQL (from /proc). pgbench replays the baseline's SQL.
5. The writes (bench/writes.py), on the same servers: a reorder of 128
   highlights, accepting an invitation, posting a room message, a batch of
   1 000 participation events. Each is sent once to each side first: both
   must answer a 2xx with the same status and keys, and its rows must be in
   the database. Then interleaved rounds as for the reads, wrk sending each
   write's requests through bench/writes.lua (64 users' reorders and room
   messages, a fresh invitation and Telegram id per acceptance, 32 groups
   of members for the batches). They write only to bench rows made for
   them, which are deleted afterwards (what a wrk run added, after each
   run): the reads' data is left as it was, and a second run measures the
   same reads.
6. The tables, printed and written to docs/benchmarks.md (unless --smoke):
   the reads' between the ``results`` markers, the writes' between ``writes``.

``--writes-only``: steps 1, 2 (servers), 5 and 6 for the writes.

``--smoke`` (CI): scale 1, one short round, the checks of 2, 3 and 5, and a
1-second wrk run of each read and write; it fails when a body differs, a
read is not a 200 or a write not a 2xx. Speed is not judged there.

``--compare-servers``: instead of the baseline, the project under each
production server this machine can run (gunicorn's sync workers, granian's
WSGI workers), interleaved in the same rounds; written beside the main table.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/2"
TICK = 1000 / os.sysconf("SC_CLK_TCK")  # ms per clock tick
# A batch of 1 000 events takes the project about 2 s under this load: wrk's
# default timeout (2 s) would drop answers it then never counts.
WRK = ["wrk", "-t2", "-c16", "--latency", "--timeout", "10s"]
TARGET = 0.6  # the project's req/s at least this share of the baseline's


def sh(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs)


def ensure_tools() -> None:
    """PostgreSQL and Redis running, wrk and pgbench installed."""
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode:
        version = os.listdir("/etc/postgresql")[0]
        sh("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
    if subprocess.run(["redis-cli", "ping"], capture_output=True).returncode:
        sh(
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        )
    if not shutil.which("wrk"):
        print("installing wrk (Debian package)")
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True
        )
    for _ in range(30):
        ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0
        if (
            ready
            and subprocess.run(["redis-cli", "ping"], capture_output=True).returncode
            == 0
        ):
            return
        time.sleep(1)
    raise SystemExit("PostgreSQL or Redis did not start")


def server_env(database: str, redis: str = REDIS) -> dict:
    """The environment of the benchmark's servers and commands: production
    settings (DEBUG off, the default connection pool) on ``database``."""
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{database}",
        "REDIS_URL": redis,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "CACHE_KEY_PREFIX": "bench",
        "PYTHONPATH": str(ROOT),
        # The hot writes post room messages as one user, hundreds a second:
        # far past a person's MESSAGE_RATE and WRITE_RATE, which is not what
        # they measure (the limiter's checks still run).
        "MESSAGE_RATE": "1000000/second",
        "MESSAGE_BURST": "1000000",
        "WRITE_RATE": "1000000/second",
        "WRITE_BURST": "1000000",
    }


def manage(env: dict, *args) -> str:
    return sh(PYTHON, "manage.py", *args, cwd=ROOT, env=env).stdout


def prepare_database(name: str, scale: int, env: dict, fresh: bool) -> None:
    if fresh:
        drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-c", drop)
    exists = sh(
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-Atc",
        f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
    ).stdout.strip()
    if not exists:
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {name}")
    started = time.monotonic()
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--scale", str(scale), "--force")
    sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", name, "-c", "VACUUM ANALYZE")
    print(f"database {name} ready in {time.monotonic() - started:.0f} s")


SAMPLE = """
import json
from datetime import timedelta
from django.apps import apps
from django.db.models import Count, Max, Q
from profiles.models import User
from rest_framework.authtoken.models import Token
from chatbot.models import Conversation
from community.models import MemberParticipation
from safety.models import ChatRoomMember, PrivateMessage
users = User.objects.filter(username__startswith="demo-user-").order_by("username")
heavy, me = users.first(), users[users.count() // 2]
partners = (PrivateMessage.objects.filter(Q(sender=me) | Q(recipient=me))
            .values_list("sender", "recipient"))
other = max({s if r == me.pk else r for s, r in partners},
            key=lambda u: sum(u in pair for pair in partners))
busy = (MemberParticipation.objects.values("member_id").annotate(n=Count("id"),
        last=Max("occurred_at")).order_by("-n", "member_id").first())
print(json.dumps({
    "token": Token.objects.get_or_create(user=me)[0].key,
    "bot_token": Token.objects.get_or_create(user=User.objects.get(
        username="community-bot"))[0].key,
    "heavy": str(heavy.pk), "typical": str(me.pk),
    "room": ChatRoomMember.objects.filter(user=me).values_list("room_id", flat=True)
            .first(),
    "partner": str(other),
    "conversation": str(Conversation.objects.filter(user=me)
                        .order_by("-updated_at", "-id").values_list("id")[0][0]),
    "member": busy["member_id"],
    "after": (busy["last"] - timedelta(days=10)).isoformat().replace("+00:00", "Z"),
    "before": (busy["last"] - timedelta(days=2)).isoformat().replace("+00:00", "Z"),
    "reactions": {str(u.pk): u.reactions.count() for u in (heavy, me)},
    "rows": {m._meta.db_table: m._default_manager.count() for m in apps.get_models()},
}))
"""


def sample(env: dict) -> dict:
    out = manage(env, "shell", "-c", SAMPLE)
    return json.loads(out.strip().splitlines()[-1])


def server_command(server: str, app: str, port: int, workers: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    if server == "gunicorn":
        return [
            PYTHON,
            "-m",
            "gunicorn",
            app,
            "-w",
            str(workers),
            "-b",
            bind,
            "--log-level",
            "warning",
        ]
    if server == "granian":
        return [
            PYTHON,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--workers",
            str(workers),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            app,
        ]
    raise SystemExit(f"unknown server {server}")


class Server:
    """A server process group started for the run, stopped at the end."""

    def __init__(self, command: list[str], env: dict, port: int):
        self.port = port
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/", timeout=1)
                return
            except OSError as error:
                if getattr(error, "code", None):  # an HTTP answer: it is up
                    return
                if self.process.poll() is not None:
                    error = self.process.stderr.read()
                    raise SystemExit(f"server died: {error}") from None
                time.sleep(0.1)
        raise SystemExit(f"server on {port} did not start")

    def pids(self) -> list[int]:
        found = sh("pgrep", "-g", str(self.process.pid)).stdout.split()
        return [int(pid) for pid in found]

    def settle(self) -> None:
        """Wait until the server is idle: requests wrk sent but no longer
        waits for are still served after it ends."""
        ticks = cpu_ticks(self.pids())
        for _ in range(100):
            time.sleep(0.3)
            ticks, before = cpu_ticks(self.pids()), ticks
            if ticks == before:
                return

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(10)


def cpu_ticks(pids) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def postgres_pids() -> list[int]:
    return [int(pid) for pid in sh("pgrep", "-u", "postgres").stdout.split()]


def call(port: int, method: str, path: str, token: str, body=None):
    """The status and JSON body of one request (an error's too)."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data, headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def get(port: int, path: str, token: str):
    return call(port, "GET", path, token)


def same_bodies(project: int, raw: int, path: str, token: str) -> None:
    status, ours = get(project, path, token)
    raw_status, theirs = get(raw, path, token)
    normalise = lambda body: json.loads(  # noqa: E731
        json.dumps(body)
        .replace(f"127.0.0.1:{project}", "HOST")
        .replace(f"127.0.0.1:{raw}", "HOST")
    )
    if (status, raw_status) != (200, 200) or normalise(ours) != normalise(theirs):
        ours, theirs = json.dumps(ours)[:400], json.dumps(theirs)[:400]
        raise SystemExit(
            f"{path}: the project and the baseline differ:\n{ours}\n{theirs}"
        )
    if not (ours.get("results", ours) if isinstance(ours, dict) else ours):
        raise SystemExit(f"{path}: no rows to compare (is the database seeded?)")


LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(port: int, path: str, token, duration: int, script=None, script_args=()):
    """wrk's figures for GETs of ``path`` with ``token``, or for the requests
    of a Lua ``script`` (given ``script_args``)."""
    load = ["-s", script] if script else ["-H", f"Authorization: Token {token}"]
    tail = ["--", *script_args] if script_args else []
    out = sh(
        *WRK, f"-d{duration}s", *load, f"http://127.0.0.1:{port}{path}", *tail
    ).stdout
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    latency = {p: float(v) * scale[u] for p, v, u in LATENCY.findall(out)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    if "Non-2xx" in out or re.search(r"timeout [1-9]", out):
        raise SystemExit(f"{path} on {port}: non-2xx answers or timeouts:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        "p50": latency["50"],
        "p99": latency["99"],
    }


def measure(server: Server, path: str, token, duration: int, **script) -> dict:
    """wrk against ``server`` (``script``: wrk's), and the CPU per request
    of its processes and of PostgreSQL's."""
    pg_before = cpu_ticks(postgres_pids())
    app_before = cpu_ticks(server.pids())
    result = wrk(server.port, path, token, duration, **script)
    app_ms = (cpu_ticks(server.pids()) - app_before) * TICK / result["requests"]
    pg_ms = (cpu_ticks(postgres_pids()) - pg_before) * TICK / result["requests"]
    return {**result, "app_cpu": app_ms, "pg_cpu": pg_ms}


def pgbench(database: str, sql: str, duration: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(sql + ";\n")
        script.flush()
        out = sh(
            "pgbench",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-n",
            "-c",
            "16",
            "-j",
            "2",
            "-T",
            str(duration),
            "-f",
            script.name,
            database,
        ).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def literal(value) -> str:
    return str(value) if isinstance(value, int) else f"'{value}'"


def explain_lightning(env: dict, ids: dict) -> list[str]:
    code = (
        "import json\n"
        "from django.db import connection\n"
        "from profiles.models import Reaction\n"
        f"for user in {json.dumps([ids['typical'], ids['heavy']])}:\n"
        "    sql, params = Reaction.objects.reacted_posts_sql(user, reader=user,"
        " position=None, reverse=False, limit=51, window=8192)\n"
        "    with connection.cursor() as c:\n"
        "        c.execute('EXPLAIN (ANALYZE, BUFFERS) ' + sql, params)\n"
        "        plan = [r[0] for r in c.fetchall()]\n"
        "    print(json.dumps(plan))\n"
    )
    return [
        json.loads(line)
        for line in manage(env, "shell", "-c", code).splitlines()
        if line.startswith("[")
    ]


def hot_reads(ids: dict) -> dict[str, tuple]:
    """Each read: its path, the baseline's statement (``bench.raw_app.SQL``)
    with its parameters for pgbench, and the token it is read with (the
    typical user's; the community bot's for the community directory)."""
    me, heavy, bot = ids["typical"], ids["heavy"], ids["bot_token"]
    room, partner, member = ids["room"], ids["partner"], ids["member"]
    after, before = ids["after"], ids["before"]
    conversation = ids["conversation"]
    token = ids["token"]
    member_query = urllib.parse.urlencode(
        {"member_id": member, "occurred_after": after, "occurred_before": before}
    )
    return {
        "lightning tab, typical user": (
            f"/api/profiles/users/{me}/reacted-posts/",
            "reacted_posts",
            [me, me, me, me, 8192, me, me, 51],
            token,
        ),
        "lightning tab, heaviest user": (
            f"/api/profiles/users/{heavy}/reacted-posts/",
            "reacted_posts",
            [heavy, heavy, me, me, 8192, me, me, 51],
            token,
        ),
        "a user's posts": (
            f"/api/profiles/posts/?author_id={me}",
            "posts",
            [me, me, me, 51],
            token,
        ),
        "users list": ("/api/profiles/users/", "users", [me, me, 51], token),
        "a user's highlights": (
            f"/api/profiles/users/{me}/highlights/",
            "highlights",
            [me, me, me, me, me],
            token,
        ),
        "stats (Redis hit)": (
            f"/api/profiles/users/{me}/stats/",
            "stats",
            [me, me, me],
            token,
        ),
        "a room's messages": (
            f"/api/safety/chat-rooms/{room}/messages/",
            "room_messages",
            [room, me, me, me, 51],
            token,
        ),
        "a private conversation": (
            f"/api/safety/private-messages/?with_user_id={partner}",
            "private_messages",
            [me, partner, partner, me, 51],
            token,
        ),
        "a conversation's replay": (
            f"/api/chatbot/conversations/{conversation}/messages/",
            "conversation_messages",
            [conversation, me, 51],
            token,
        ),
        "a user's tasks": ("/api/chatbot/tasks/", "tasks", [me, 51], token),
        "public stories by tag": (
            "/api/wellness/stories/?tag=growth&visibility=public",
            "stories",
            ["growth", me, me, 51],
            token,
        ),
        "top matches": (
            "/api/wellness/match-results/",
            "matches",
            [me, me, me, me],
            token,
        ),
        "community members by status": (
            "/api/community/community-members/?status=member",
            "members",
            ["member", 51],
            bot,
        ),
        "participation by member and time": (
            f"/api/community/member-participation/?{member_query}",
            "participation",
            [member, after, before, 51],
            bot,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--server", default="gunicorn", choices=["gunicorn", "granian"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="CI: small, checks only")
    parser.add_argument("--fresh", action="store_true", help="recreate the database")
    parser.add_argument("--database", help="its name (default: bench_s<scale>)")
    parser.add_argument("--port", type=int, default=8801, help="the first of 3 ports")
    parser.add_argument("--redis", default=REDIS, help="REDIS_URL of the servers")
    parser.add_argument(
        "--compare-servers", action="store_true", help="the project under each server"
    )
    parser.add_argument(
        "--writes-only", action="store_true", help="the writes alone, not the reads"
    )
    args = parser.parse_args()
    if args.smoke:
        args.scale, args.rounds, args.duration = 1, 1, 1

    ensure_tools()
    database = args.database or f"bench_s{args.scale}"
    env = server_env(database, args.redis)
    prepare_database(database, args.scale, env, args.fresh)
    ids = sample(env)
    reads = hot_reads(ids)

    sys.path.insert(0, str(ROOT))
    from bench.raw_app import SQL

    if args.compare_servers:
        compare_servers(args, env, reads)
        return
    servers = {
        target: Server(server_command(args.server, app, port, args.workers), env, port)
        for target, app, port in (
            ("project", "config.wsgi:application", args.port),
            ("raw", "bench.raw_app:app", args.port + 1),
        )
    }
    try:
        if not args.writes_only:
            read_results, plans, indexes = time_reads(args, env, ids, reads, servers)
        write_results = time_writes(args, env, ids, servers)
    finally:
        for server in servers.values():
            server.stop()
    if args.smoke:
        return
    if not args.writes_only:
        tps = {
            name: pgbench(
                database, SQL[key] % tuple(literal(p) for p in params), args.duration
            )
            for name, (_, key, params, _) in reads.items()
        }
        report(args, ids, read_results, tps, plans, indexes)
    report_writes(args, write_results)


def time_reads(args, env, ids, reads, servers) -> tuple:
    """The checks of the reads (same bodies, indexes), then their rounds."""
    from bench import explain

    project, raw = servers["project"], servers["raw"]
    for path, _, _, token in reads.values():
        get(project.port, path, token)  # warm: stats cached, token cached
        same_bodies(project.port, raw.port, path, token)
    print("the project and the baseline answer the same bodies")
    plans = explain_lightning(env, ids)
    indexes = explain.run(env, {name: (r[0], r[3]) for name, r in reads.items()})
    whole = {name: tables for name, (_, tables) in indexes.items() if tables}
    if whole:
        raise SystemExit(f"reads that scan a whole big table: {whole}")
    print("every read finds its rows through indexes (EXPLAIN)")
    if args.smoke:
        for path, _, _, token in reads.values():
            wrk(project.port, path, token, 1)
        print("smoke: every read answered 200 under load")
        return None, plans, indexes
    return read_rounds(args, reads, servers), plans, indexes


def read_rounds(args, reads, servers) -> dict:
    """Each read against each server, in interleaved rounds."""
    return interleaved(
        reads,
        servers,
        args.rounds,
        lambda name, server: measure(
            server, reads[name][0], reads[name][3], args.duration
        ),
    )


def shape(body):
    """The keys of a JSON body, nested (a list by its first item)."""
    if isinstance(body, dict):
        return {key: shape(value) for key, value in body.items()}
    if isinstance(body, list):
        return [shape(body[0])] if body else []
    return None


def time_writes(args, env, ids, servers) -> dict | None:
    """Each write once on each side (a 2xx, the same status and keys, its
    rows in the database), then their rounds (bench/writes.py: on bench rows
    only, deleted at the end)."""
    from bench.writes import LUA, Writes

    threads = int(WRK[1].removeprefix("-t"))
    writes = Writes(env["DATABASE_URL"], env, ids["bot_token"])
    try:
        for name in writes.lines:
            answers = {}
            for target, server in servers.items():
                writes.prepare(name, 1, 0)
                request = writes.first_request(name)
                status, body = call(server.port, *request)
                problem = writes.landed(name, request, body) if status < 300 else ""
                writes.tidy(name)
                if problem is not None:
                    raise SystemExit(
                        f"{name} on the {target}: {status} {problem}\n"
                        f"{json.dumps(body)[:400]}"
                    )
                answers[target] = status, shape(body)
            if answers["project"] != answers["raw"]:
                raise SystemExit(
                    f"{name}: the project and the baseline differ:\n{answers}"
                )
        print("the project and the baseline answer each write alike; its rows land")

        def run(name, server, duration=args.duration):
            script_args = writes.prepare(name, threads, duration)
            try:
                return measure(
                    server, "/", None, duration, script=LUA, script_args=script_args
                )
            finally:
                server.settle()
                writes.tidy(name)

        if args.smoke:
            for name in writes.lines:
                for server in servers.values():
                    run(name, server, 1)
            print("smoke: every write answered 2xx under load")
            return None
        return interleaved(writes.lines, servers, args.rounds, run)
    finally:
        writes.cleanup()


def interleaved(names, servers: dict[str, Server], rounds: int, run) -> dict:
    """``run(name, server)`` for each name and server in turn, ``rounds``
    times: {name: {server's key: [its results]}}."""
    results = {name: {target: [] for target in servers} for name in names}
    for round_ in range(rounds):
        for name in names:
            for target, server in servers.items():
                results[name][target].append(run(name, server))
        print(f"round {round_ + 1} of {rounds} done", flush=True)
    return results


SERVERS = ("gunicorn", "granian")


def compare_servers(args, env, reads) -> None:
    servers = {
        name: Server(
            server_command(name, "config.wsgi:application", port, args.workers),
            env,
            port,
        )
        for name, port in zip(SERVERS, (args.port, args.port + 2), strict=True)
    }
    try:
        for path, _, _, token in reads.values():
            for server in servers.values():
                get(server.port, path, token)
        results = read_rounds(args, reads, servers)
    finally:
        for server in servers.values():
            server.stop()
    columns = " | ".join(
        f"{n} req/s | {n} p50 / p99 ms | {n} app CPU ms/req" for n in SERVERS
    )
    lines = [f"| read | {columns} |", "|---|" + "---|" * 3 * len(SERVERS)]
    for read, runs in results.items():
        cells = [
            f"{median(runs[n], 'rps'):.0f} | {median(runs[n], 'p50'):.1f} / "
            f"{median(runs[n], 'p99'):.1f} | {median(runs[n], 'app_cpu'):.2f}"
            for n in SERVERS
        ]
        lines.append(f"| {read} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    write_block(
        "servers",
        f"Run of {time.strftime('%Y-%m-%d')}: `bench/run --compare-servers "
        f"--scale {args.scale} --rounds {args.rounds} --duration {args.duration} "
        f"--workers {args.workers}`: the project alone under each server, "
        f"{args.workers} workers each, medians of {args.rounds} interleaved "
        f"rounds.\n\n{table}\n",
    )


def write_block(name: str, text: str) -> None:
    """Replace the block between ``<!-- bench/run NAME -->`` markers in
    docs/benchmarks.md, keeping the words around it."""
    doc = ROOT / "docs" / "benchmarks.md"
    start, end = f"<!-- bench/run {name} -->", f"<!-- /bench/run {name} -->"
    before, _, rest = doc.read_text().partition(start)
    _, _, after = rest.partition(end)
    doc.write_text(f"{before}{start}\n{text}{end}{after}")
    print(f"written to {doc.relative_to(ROOT)}")


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def execution_ms(plan: list[str]) -> float:
    return float(re.search(r"Execution Time: ([\d.]+) ms", "\n".join(plan)).group(1))


DATA_TABLES = [
    "users",
    "posts",
    "reactions",
    "chat_room_messages",
    "private_messages",
    "member_participation",
    "conversations",
    "messages",
    "user_features",
]
COMPARED = (
    "project req/s | baseline req/s | ratio | p50 / p99 ms (project) | "
    "p50 / p99 ms (baseline) | app CPU ms/req (project / baseline) | "
    "PostgreSQL CPU ms/req (project / baseline)"
)


def compared(results: dict, extra: dict | None = None) -> tuple[list[str], list[str]]:
    """The rows of a project-against-baseline table (``COMPARED``'s columns,
    then ``extra[name]``'s cells), and the names short of the target."""
    lines, short = [], []
    for name, runs in results.items():
        ours, theirs = runs["project"], runs["raw"]
        ratio = median(ours, "rps") / median(theirs, "rps")
        if ratio < TARGET:
            short.append(f"{name} ({ratio:.2f}x)")
        cells = [
            f"{median(ours, 'rps'):.0f}",
            f"{median(theirs, 'rps'):.0f}",
            f"{ratio:.2f}x",
            f"{median(ours, 'p50'):.1f} / {median(ours, 'p99'):.1f}",
            f"{median(theirs, 'p50'):.1f} / {median(theirs, 'p99'):.1f}",
            f"{median(ours, 'app_cpu'):.2f} / {median(theirs, 'app_cpu'):.2f}",
            f"{median(ours, 'pg_cpu'):.2f} / {median(theirs, 'pg_cpu'):.2f}",
            *(extra or {}).get(name, []),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines, short


def machine() -> str:
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB; "
        f"Python {platform.python_version()}; "
        + sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version")
        .stdout.strip()
        .join(["PostgreSQL ", ""])
    )


def setting(args, options: str = "") -> str:
    """The run's command, machine and servers, as the tables' header says."""
    return (
        f"Run of {time.strftime('%Y-%m-%d')}: `bench/run{options} --scale "
        f"{args.scale} --rounds {args.rounds} --duration {args.duration} --server "
        f"{args.server} --workers {args.workers}`.\n\n"
        f"- Machine: {machine()}.\n"
        f"- Servers: {args.server}, {args.workers} workers each, on 127.0.0.1; "
        f"wrk {' '.join(WRK[1:])} -d{args.duration}s; medians of {args.rounds} "
        "interleaved rounds.\n"
    )


def report(args, ids, results, tps, plans, indexes) -> None:
    header = f"| read (up to 50 rows) | {COMPARED} | pgbench tps | indexes (EXPLAIN) |"
    extra = {
        name: [f"{tps[name]:.0f}", ", ".join(indexes[name][0])] for name in results
    }
    lines, short = compared(results, extra)
    table = "\n".join([header, "|" + "---|" * 10, *lines])
    print(table)
    print("short of the target:", ", ".join(short) or "none")
    data = ", ".join(f"{ids['rows'][table]} {table}" for table in DATA_TABLES)
    lightning = ", ".join(
        f"{who}: {execution_ms(plan):.1f} ms"
        for who, plan in zip(("typical user", "heaviest user"), plans, strict=True)
    )
    results_md = (
        f"{setting(args)}"
        f"- Data: {data}; typical user {ids['reactions'][ids['typical']]} "
        f"reactions, heaviest {ids['reactions'][ids['heavy']]}.\n"
        f"- Lightning tab statement (EXPLAIN ANALYZE): {lightning}.\n\n"
        f"{table}\n\nShort of {TARGET}x the baseline: {', '.join(short) or 'none'}.\n"
    )
    write_block("results", results_md)


def report_writes(args, results) -> None:
    lines, short = compared(results)
    table = "\n".join([f"| write | {COMPARED} |", "|" + "---|" * 8, *lines])
    print(table)
    print("writes short of the target:", ", ".join(short) or "none")
    options = " --writes-only" if args.writes_only else ""
    write_block(
        "writes",
        f"{setting(args, options)}\n{table}\n\n"
        f"Short of {TARGET}x the baseline: {', '.join(short) or 'none'}.\n",
    )


if __name__ == "__main__":
    main()
