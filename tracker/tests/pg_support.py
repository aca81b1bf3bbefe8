"""A second PostgreSQL database beside the test database, for the tests of roles and restore."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
from psycopg import sql

from tracker.management.commands.backup import connection_params


@contextlib.contextmanager
def temporary_database(label: str, *, drop_roles: tuple[str, ...] = ()) -> Iterator[dict]:
    """A fresh, empty database in the test database's cluster, named after it and ``label``;
    yields its connection parameters, then drops it (and the ``drop_roles``; ``{name}`` in a
    role is the database's name)."""
    params = connection_params()
    name = f"{params['dbname']}_{label}_{uuid.uuid4().hex[:8]}"
    admin = {**params, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {**params, "dbname": name}
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            for role in drop_roles:
                conn.execute(
                    sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role.format(name=name)))
                )
