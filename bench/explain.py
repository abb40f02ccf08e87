"""The plans of the hot reads (bench/run.py's), on PostgreSQL at scale.

    .venv/bin/python bench/explain.py [--database bench_s500]

Each read is requested through Django's test client with its token, its
statements captured, and each SELECT explained (``EXPLAIN``, not run again).
A read passes when every table it reads with more than ``SMALL`` rows is read
through an index: no ``Seq Scan`` on it. ``bench/run`` runs this at its scale
and fails on a read that does not pass; alone it prints each read's indexes.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = 10_000  # rows: a table this small is read whole faster than by index
SCAN = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan)")
SEQ = re.compile(r"Seq Scan on (\w+)")
INDEX = re.compile(
    r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)?"
    r" (?:using|on) (\w+)"
)


def plans(reads: dict) -> dict[str, list[list[str]]]:
    """In this process (Django set up here): each read's statements' plans."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    found = {}
    for name, (path, token) in reads.items():
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        client.get(path)  # the token and the stats are cached from here on
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.content[:200])
        found[name] = []
        with connection.cursor() as cursor:
            for query in queries.captured_queries:
                if query["sql"].lstrip().startswith("SELECT"):
                    cursor.execute("EXPLAIN " + query["sql"])
                    found[name].append([row[0] for row in cursor.fetchall()])
    return found


def small_tables(database_url: str) -> set[str]:
    out = subprocess.run(
        [
            "psql",
            database_url,
            "-Atc",
            f"SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples < {SMALL}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def check(found: dict, small: set[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Each read's indexes and the big tables it scans whole."""
    result = {}
    for name, statements in found.items():
        text = "\n".join(line for plan in statements for line in plan)
        indexes = sorted(set(INDEX.findall(text)))
        whole = sorted(set(SEQ.findall(text)) - small)
        result[name] = (indexes, whole)
    return result


def run(env: dict, reads: dict) -> dict:
    """From bench/run.py: the plans of ``reads`` ({name: (path, token)}) in
    a child process with ``env``'s database."""
    out = subprocess.run(
        [sys.executable, __file__, "--child"],
        input=json.dumps(reads),
        env={**env, "ALLOWED_HOSTS": "testserver"},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = json.loads(out.strip().splitlines()[-1])
    return check(found, small_tables(env["DATABASE_URL"]))


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(plans(json.loads(sys.stdin.read()))))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_s500")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.run import PG, hot_reads, sample

    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{args.database}",
        "PYTHONPATH": str(ROOT),
    }
    reads = {name: (r[0], r[3]) for name, r in hot_reads(sample(env)).items()}
    failed = False
    for name, (indexes, whole) in run(env, reads).items():
        failed |= bool(whole)
        seq = f"; whole table: {', '.join(whole)}" if whole else ""
        print(f"{name}: {', '.join(indexes) or 'no index'}{seq}")
    sys.exit(1 if failed else 0)
