"""Writing one column of many rows in one statement, built once per row count.

`UPDATE t SET c = CASE t.id WHEN :id_0 THEN :value_0 ... END WHERE t.id IN (:id_0, ...)`:
building such a statement for every order (a WHEN per row) cost more CPU than running it;
built once with bound values, each order only binds its ids and values.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, bindparam, case, update
from sqlalchemy.sql.dml import Update

from ..extensions import run_core


def set_values(column: Column, values: Mapping[int, Any]) -> None:
    """Set `column` of each row (by id) to its value, in the caller's transaction."""
    if not values:
        return
    params: dict[str, Any] = {}
    for index, (row_id, value) in enumerate(values.items()):
        params[f"id_{index}"] = row_id
        params[f"value_{index}"] = value
    run_core(_set_statement(column, len(values)), params)


@functools.lru_cache(maxsize=256)
def _set_statement(column: Column, rows: int) -> Update:
    table_id = column.table.c.id
    ids = [bindparam(f"id_{i}", type_=table_id.type) for i in range(rows)]
    values = [bindparam(f"value_{i}", type_=column.type) for i in range(rows)]
    return (update(column.table).where(table_id.in_(ids))
            .values({column: case(dict(zip(ids, values)), value=table_id)}))
