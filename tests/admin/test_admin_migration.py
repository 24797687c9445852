"""Migration 0003 creates exactly the admin tables the models declare, and can be undone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from formserver.core import db
from formserver.core.models import Base

ADMIN_TABLES = {"admin_users", "lead_tags", "webhook_deliveries"}


def _touches_admin(diff) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            if isinstance(part, str) and part in ADMIN_TABLES:
                return True
            table = getattr(part, "table", None)
            name = getattr(table, "name", None) or getattr(part, "name", None)
            if name in ADMIN_TABLES:
                return True
    return False


def test_models_and_migration_agree(app):
    with db.engine(app).connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if _touches_admin(d)] == []


def test_downgrade_removes_the_admin_tables_and_upgrade_restores_them(app, db_url):
    cfg = db.alembic_config(db_url)
    before = ScriptDirectory.from_config(cfg).get_revision("0003").down_revision
    command.downgrade(cfg, before)
    assert not ADMIN_TABLES & set(inspect(db.engine(app)).get_table_names())
    db.upgrade(db_url)
    db.engine(app).dispose()
    assert ADMIN_TABLES <= set(inspect(db.engine(app)).get_table_names())


def test_the_revision_read_from_the_files_is_alembics_head(db_url):
    """Start-up compares the stored revision with this one instead of loading Alembic."""
    heads = ScriptDirectory.from_config(db.alembic_config(db_url)).get_heads()
    assert heads == [db.code_revision()]


def test_a_database_behind_the_code_is_migrated_at_start(app, db_url):
    cfg = db.alembic_config(db_url)
    command.downgrade(cfg, "0003")
    db.engine(app).dispose()
    assert db.stored_revision(db.engine(app)) == "0003"
    db.migrate_if_behind(db.engine(app), db_url)
    assert db.stored_revision(db.engine(app)) == db.code_revision()
