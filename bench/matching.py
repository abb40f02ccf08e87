"""What a matching run costs (wellness/matching.py): ``manage.py
wellness_match`` over n users with d-dimensional vectors, on PostgreSQL.

    .venv/bin/python bench/matching.py [--users 1000,5000,10000] [--dims 16,64]

For each size: a fresh database ``bench_matching`` (created, migrated) gets
n users with random vectors of d numbers (one version), then the run is
timed whole (read the vectors, n x n similarities, write the top
``WELLNESS_MATCHES`` of each user), and its similarity part alone. The
table is printed; docs/benchmarks.md quotes it.
"""

import argparse
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "bench_matching"


def psql(sql: str) -> None:
    subprocess.run(
        [
            "psql",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            sql,
        ],
        check=True,
        env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1000,5000,10000")
    parser.add_argument("--dims", default="16,64")
    parser.add_argument("--database", default=DATABASE, help="dropped and remade")
    args = parser.parse_args()
    database = args.database
    sizes = [
        (int(users), int(dims))
        for users in args.users.split(",")
        for dims in args.dims.split(",")
    ]
    print("| users | dimensions | matches stored | whole run (s) | similarities (s) |")
    print("|---:|---:|---:|---:|---:|")
    for users, dims in sizes:
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        psql(f"CREATE DATABASE {database}")
        result = subprocess.run(
            [sys.executable, __file__, "--one", str(users), str(dims)],
            env={**os.environ, "DATABASE_URL": f"{SERVER}/{database}"},
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        print(result.stdout.strip().splitlines()[-1], flush=True)
    psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def one(users: int, dims: int) -> None:
    """In the child process: migrate, fill, time (Django set up here)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from profiles.models import User
    from wellness import matching
    from wellness.models import UserFeature

    call_command("migrate", verbosity=0)
    rng = random.Random(f"bench:{users}:{dims}")  # noqa: S311
    people = [
        User(id=uuid.uuid4(), username=f"bench-{n}", email=f"bench-{n}@example.org")
        for n in range(users)
    ]
    User.objects.bulk_create(people, batch_size=5000)
    UserFeature.objects.bulk_create(
        [
            UserFeature(user=person, vector=[rng.uniform(-1, 1) for _ in range(dims)])
            for person in people
        ],
        batch_size=5000,
    )
    vectors = [feature.vector for feature in UserFeature.objects.all()]
    ids = list(range(len(vectors)))
    start = time.perf_counter()
    for _ in matching._best(ids, vectors, None, 10):
        pass
    similarities = time.perf_counter() - start
    start = time.perf_counter()
    stored = matching.match()
    whole = time.perf_counter() - start
    print(f"| {users} | {dims} | {stored} | {whole:.2f} | {similarities:.2f} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
