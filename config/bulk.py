"""Many rows into one table fast: COPY on PostgreSQL, ``bulk_create``
elsewhere (``manage.py seed_demo``'s data, the matching's batches)."""

from collections.abc import Iterable, Iterator

from django.db import connection, models


def batches(rows: list, size: int = 2000) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_rows(model, fields: list[str], row_batches: Iterable[list[tuple]]) -> None:
    """Insert each batch's rows (tuples of values for ``fields``, attribute
    names such as ``user_id``) into ``model``'s table. PostgreSQL gets them
    by COPY (a million rows in seconds); other databases by
    ``bulk_create``. No model ``save()``, signals or conflict handling: the
    caller inserts only rows that are missing."""
    if connection.vendor != "postgresql":
        for batch in row_batches:
            model.objects.bulk_create(
                model(**dict(zip(fields, row, strict=True))) for row in batch
            )
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    table = connection.ops.quote_name(meta.db_table)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    # JSON values go in as the driver's JSON adapter; the rest as they are.
    json_columns = [
        i for i, f in enumerate(model_fields) if isinstance(f, models.JSONField)
    ]
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for batch in row_batches:
            for row in batch:
                if json_columns:
                    row = list(row)
                    for i in json_columns:
                        row[i] = model_fields[i].get_db_prep_save(row[i], connection)
                copy.write_row(row)
