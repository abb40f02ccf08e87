"""The hot reads of bench/run under each way to the database (docs/scaling.md):

    .venv/bin/python bench/databases.py [--scale 500] [--rounds 2] [--duration 5]

the project (the same server, workers and data as bench/run) reading

- **primary**: PostgreSQL directly, persistent connections (`DB_POOL=false`);
- **replica**: a streaming replica (bench/replica.sh), ``DATABASE_REPLICA_URL``;
- **pgbouncer**: PgBouncer in transaction mode (bench/pgbouncer.sh),
  ``DB_TRANSACTION_POOLER``;
- **psycopg pool**: psycopg's pool in each process (the default).

Interleaved rounds; req/s and p50 / p99 per read and way, written to
docs/benchmarks.md. The replica and PgBouncer are started for the run and
stopped after it when they were not running before.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402

REPLICA_PORT, POOLER_PORT = 5433, 6432
PSQL = ("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-p")


def started(script: str, port: int) -> bool:
    """Start what ``script`` starts unless it already answers; whether it
    was started here."""
    up = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)])
    if up.returncode == 0:
        return False
    subprocess.run([str(ROOT / "bench" / script), "start"], check=True)
    return True


def caught_up() -> None:
    """Wait until the replica has replayed what the primary has written."""

    def lsn(port: int, function: str) -> str:
        command = f"SELECT {function}()"
        return run.sh(*PSQL, str(port), "-Atc", command).stdout.strip()

    target = lsn(5432, "pg_current_wal_lsn")
    check = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
    for _ in range(600):
        done = run.sh(*PSQL, str(REPLICA_PORT), "-Atc", check).stdout.strip()
        if done == "t":
            return
        time.sleep(0.5)
    raise SystemExit("the replica did not catch up")


def ways(env: dict, database: str) -> dict[str, dict]:
    return {
        # Persistent connections, as before the pool was the default.
        "primary": {**env, "DB_POOL": "false", "CONN_MAX_AGE": "600"},
        "replica": {
            **env,
            "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/{database}",
        },
        "pgbouncer": {
            **env,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{POOLER_PORT}/{database}",
            "DB_TRANSACTION_POOLER": "true",
        },
        "psycopg pool": env,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8811)
    parser.add_argument("--database", help="its name (default: bench_s<scale>)")
    args = parser.parse_args()
    run.ensure_tools()
    database = args.database or f"bench_s{args.scale}"
    env = run.server_env(database)
    run.prepare_database(database, args.scale, env, fresh=False)
    reads = run.hot_reads(run.sample(env))
    ours = [
        script
        for script, port in (
            ("replica.sh", REPLICA_PORT),
            ("pgbouncer.sh", POOLER_PORT),
        )
        if started(script, port)
    ]
    servers = {}
    try:
        caught_up()
        for n, (name, way) in enumerate(ways(env, database).items()):
            port = args.port + n
            command = run.server_command(
                "gunicorn", "config.wsgi:application", port, args.workers
            )
            servers[name] = run.Server(command, way, port)
        for path, _, _, token in reads.values():
            for server in servers.values():
                run.get(server.port, path, token)  # warm, and a 200
        results = run.interleaved(
            reads,
            servers,
            args.rounds,
            lambda read, server: run.measure(
                server, reads[read][0], reads[read][3], args.duration
            ),
        )
    finally:
        for server in servers.values():
            server.stop()
        for script in ours:
            subprocess.run([str(ROOT / "bench" / script), "stop"], check=False)
    names = list(servers)
    head = " | ".join(f"{n} req/s | {n} p50 / p99 ms" for n in names)
    lines = [f"| read | {head} |", "|---|" + "---|---|" * len(names)]
    for read, runs in results.items():
        cells = " | ".join(
            f"{run.median(runs[n], 'rps'):.0f} | {run.median(runs[n], 'p50'):.1f} / "
            f"{run.median(runs[n], 'p99'):.1f}"
            for n in names
        )
        lines.append(f"| {read} | {cells} |")
    text = (
        f"Run of {time.strftime('%Y-%m-%d')}: `bench/databases.py --scale {args.scale} "
        f"--rounds {args.rounds} --duration {args.duration} --workers {args.workers}`: "
        f"gunicorn, {args.workers} workers per way, "
        f"medians of {args.rounds} interleaved rounds.\n\n" + "\n".join(lines) + "\n"
    )
    print(text)
    run.write_block("databases", text)


if __name__ == "__main__":
    main()
