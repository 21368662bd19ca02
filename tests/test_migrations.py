"""The migrations: each applies and reverts cleanly, and together they build
exactly the schema the models describe (what `flask db check` checks).

On SQLite, and on PostgreSQL when TEST_DATABASE_URL is set. The PostgreSQL
database is the one the whole suite shares, so every test here leaves it
migrated to head, even when it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Column, MetaData, String, inspect, text

from app.extensions import db


@pytest.fixture
def migrations_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """An app context on this test's database (migrated to head), which is
    migrated back to head afterwards whatever the test did to it."""
    app = make_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.rollback()
            _back_to_head()


def _back_to_head() -> None:
    try:
        flask_migrate.upgrade()
    except Exception:
        # A half-migrated schema: start again from nothing.
        db.session.rollback()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade()


def _revisions(app: Flask) -> list[str]:
    """Every revision id, oldest first."""
    config = app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _current() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _columns() -> set[tuple[str, str]]:
    """Every (table, column) of the database: what a migration adds to."""
    inspector = inspect(db.engine)
    return {
        (table, column["name"])
        for table in _tables()
        for column in inspector.get_columns(table)
    }


def _schema_differences(app: Flask, metadata: MetaData | None = None) -> list[Any]:
    """What autogenerate would put in a new migration: nothing, if the
    migrated database matches the models. Same options as migrations/env.py."""
    options = dict(app.extensions["migrate"].configure_args)
    options.setdefault("compare_type", True)
    options.setdefault("compare_server_default", True)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata or db.metadata))


def test_migrated_schema_matches_the_models(migrations_app: Flask):
    assert _current() == _revisions(migrations_app)[-1]
    assert _tables() == set(db.metadata.tables)
    assert _schema_differences(migrations_app) == []


def test_each_migration_applies_and_reverts_from_an_empty_database(
    migrations_app: Flask,
):
    """From nothing at all, each revision in turn: up, down, up again."""
    flask_migrate.downgrade(revision="base")
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    assert inspect(db.engine).get_table_names() == []

    revisions = _revisions(migrations_app)
    assert revisions[0] == "0001"
    columns_at: dict[str | None, set[tuple[str, str]]] = {None: set()}
    previous: str | None = None
    for revision in revisions:
        flask_migrate.upgrade(revision=revision)
        assert _current() == revision
        columns_at[revision] = _columns()
        assert columns_at[revision] > columns_at[previous], f"{revision} adds nothing"

        flask_migrate.downgrade(revision="-1")
        assert _current() == previous
        assert _columns() == columns_at[previous]

        flask_migrate.upgrade(revision=revision)
        assert _columns() == columns_at[revision]
        previous = revision

    assert _schema_differences(migrations_app) == []


def test_downgrade_base_then_upgrade_head_round_trips(migrations_app: Flask):
    flask_migrate.downgrade(revision="base")
    assert _current() is None
    assert _tables() == set()

    flask_migrate.upgrade()
    assert _current() == _revisions(migrations_app)[-1]
    assert _schema_differences(migrations_app) == []


def test_a_database_with_data_upgrades_from_every_earlier_revision(
    migrations_app: Flask,
):
    """A deployment's database is not empty: users, their connections and
    the rows that point at them. From each revision that shipped, with such
    rows, the upgrade to head keeps every row (SQLite alters a table by
    copying it, which foreign keys pointing at it would stop)."""
    for start in ("0002", "0003"):
        flask_migrate.downgrade(revision="base")
        flask_migrate.upgrade(revision=start)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, created_at) "
                    "VALUES (1, 'old@example.com', 'x', '2026-11-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO kit_connections (id, user_id, kit_account_id, "
                    "tenant_name, account_name, account_email, access_token, "
                    "refresh_token, expires_at, status, created_at, updated_at) "
                    "VALUES (1, 1, '1001', '', 'Ada', '', 'a', 'r', "
                    "'2026-12-01 00:00:00', 'active', '2026-11-01 00:00:00', "
                    "'2026-11-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO connection_events (connection_id, kind, created_at) "
                    "VALUES (1, 'connected', '2026-11-01 00:00:00')"
                )
            )
        flask_migrate.upgrade()
        assert _current() == _revisions(migrations_app)[-1]
        with db.engine.connect() as connection:
            users = connection.execute(
                text("SELECT email, session_token, email_verified_at FROM users")
            ).all()
            assert [u.email for u in users] == ["old@example.com"]
            assert users[0].session_token and users[0].email_verified_at
            assert (
                connection.execute(
                    text("SELECT count(*) FROM kit_connections WHERE user_id = 1")
                ).scalar()
                == 1
            )
            assert (
                connection.execute(
                    text("SELECT count(*) FROM connection_events")
                ).scalar()
                == 1
            )
    assert _schema_differences(migrations_app) == []


def test_a_model_change_without_a_migration_is_caught(migrations_app: Flask):
    """The comparison is not vacuous: a column the migrations lack shows up."""
    models = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["users"].append_column(Column("nickname", String(40)))

    differences = _schema_differences(migrations_app, models)
    assert [d[:3] for d in differences] == [("add_column", None, "users")]
    assert differences[0][3].name == "nickname"
