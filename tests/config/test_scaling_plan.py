"""docs/scaling.md's Citus plan against the live catalog of the migrated test
database: which unique constraints of the tables planned as distributed lack
their distribution column, and which foreign keys Citus would refuse (between
distributed tables not on their distribution columns, or from a reference
table to a distributed one). The page's lists must be exactly what the
catalog says, so the plan cannot drift from the schema."""

import re
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"


def marked(name: str) -> list[str]:
    """The lines between ``<!-- name -->`` and ``<!-- /name -->``."""
    text = PAGE.read_text()
    found = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->", text, re.S)
    assert found, f"docs/scaling.md has no {name} block"
    return [line for line in found.group(1).splitlines() if line.strip()]


def plan() -> dict[str, tuple[str, str]]:
    """Table -> (distribution column, co-location group)."""
    rows = {}
    for line in marked("citus-plan")[2:]:  # past the header and its rule
        table, column, group, _ = (
            cell.strip(" `") for cell in line.strip("|").split("|")
        )
        rows[table] = (column, group)
    return rows


def catalog(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, c.contype,
       ARRAY(SELECT attname FROM unnest(c.conkey) k
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k),
       c.confrelid::regclass::text,
       ARRAY(SELECT attname FROM unnest(c.confkey) k
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k)
FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace AND n.nspname = 'public'
WHERE c.contype IN ('p', 'u', 'f')
"""


def without_distribution_column(distributed, constraints) -> list[str]:
    return sorted(
        f"- `{table}`: `{name}`"
        for table, name, kind, columns, _, _ in constraints
        if kind in ("p", "u")
        and table in distributed
        and distributed[table][0] not in columns
    )


def refused_foreign_keys(distributed, constraints) -> list[str]:
    refused = []
    for table, _, kind, columns, target, target_columns in constraints:
        if kind != "f" or target not in distributed:
            continue  # to a reference table: allowed from anywhere
        if table in distributed:
            column, group = distributed[table]
            target_column, target_group = distributed[target]
            if group == target_group and (column, target_column) in zip(
                columns, target_columns, strict=True
            ):
                continue  # co-located, joined on the distribution columns
        refused.append(f"- `{table}.{', '.join(columns)}` → `{target}`")
    return sorted(set(refused))


def test_every_planned_table_exists_with_its_distribution_column(postgresql):
    columns = set(
        catalog(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
    )
    for table, (column, _) in plan().items():
        assert (table, column) in columns, f"{table}.{column} is not in the schema"


def test_the_unique_constraints_without_the_distribution_column_are_the_pages(
    postgresql,
):
    constraints = catalog(CONSTRAINTS)
    assert without_distribution_column(plan(), constraints) == marked("citus-unique")


def test_the_foreign_keys_citus_would_refuse_are_the_pages(postgresql):
    constraints = catalog(CONSTRAINTS)
    assert refused_foreign_keys(plan(), constraints) == marked("citus-foreign-keys")
