"""Which tests run on which database, and the migrated database each test gets a copy of."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine

PG_URL = os.environ.get("FORMSERVER_TEST_DATABASE_URL", "")

# Tests that request a database (through ``app``) but never issue SQL: they run once, on SQLite,
# not once per backend. ``db_url`` fails any of them that does issue SQL, so none can quietly lose
# its PostgreSQL run.
ONE_BACKEND = frozenset(
    {
        "tests/admin/test_admin_access.py::test_create_user_refuses_a_short_password",
        "tests/admin/test_admin_access.py::test_every_admin_url_refuses_anonymous_visitors",
        "tests/admin/test_admin_access.py::test_unknown_admin_paths_do_not_reveal_anything",
        "tests/admin/test_admin_api.py::test_get_is_not_allowed",
        "tests/admin/test_admin_migration.py::test_the_revision_read_from_the_files_is_alembics_head",
        "tests/admin/test_admin_openapi.py::test_documented_paths_exist_once_their_module_is_registered",
        "tests/admin/test_admin_openapi.py::test_tracking_and_api_routes_are_all_documented",
        "tests/admin/test_admin_tracking.py::test_track_links_rewrites_only_external_links",
        "tests/admin/test_admin_tracking.py::test_unknown_offer_is_404",
        "tests/capture/test_bad_input.py::test_html_in_values_is_escaped_on_the_error_page",
        "tests/capture/test_bad_input.py::test_missing_consent_is_explained",
        "tests/capture/test_bad_input.py::test_non_string_json_values_are_422",
        "tests/capture/test_bad_input.py::test_unknown_offer_404_and_wrong_method_405",
        "tests/capture/test_rate_limits.py::test_the_stamp_endpoint_answers_429_past_its_limit",
        "tests/capture/test_security_headers.py::test_error_pages",
        "tests/capture/test_security_headers.py::test_hsts_only_when_the_public_url_is_https",
        "tests/capture/test_security_headers.py::test_landing_page_of_the_development_site",
        "tests/capture/test_security_headers.py::test_theme_files_on_the_static_site_host_are_allowed",
        "tests/capture/test_time_trap.py::test_the_stamp_endpoint_answers_a_fresh_stamp_that_is_never_cached",
        "tests/capture/test_time_trap.py::test_the_stamp_says_when_it_was_signed",
        "tests/drip/test_sending_faults.py::test_send_test_to_a_bad_address_is_a_clear_error",
        "tests/tooling/test_tooling.py::test_duplicate_step_order_and_link_to_a_missing_page",
        "tests/tooling/test_tooling.py::test_lint_names_file_line_and_problem",
        "tests/tooling/test_tooling.py::test_lint_passes_on_the_fixture_and_the_sample_series",
        "tests/tooling/test_tooling.py::test_long_subject_is_only_a_warning",
        "tests/tooling/test_tooling.py::test_preview_writes_both_parts_with_merge_fields",
        "tests/tooling/test_tooling.py::test_send_test_arrives_at_the_smtp_sink",
        "tests/tooling/test_tooling.py::test_spam_scores_come_from_spamassassin",
        "tests/tooling/test_tooling.py::test_timeline_across_a_weekend_and_dst",
    }
)
# Tests whose subject is the first start on an empty database: they get one, not a migrated copy.
EMPTY_DATABASE = frozenset(
    {
        "tests/test_app.py::test_schema_is_created_on_first_start",
        "tests/capture/test_health_and_cli.py::test_db_upgrade_command_creates_the_schema",
    }
)
# Start-up asks this one question of a migrated database; anything else is the test's own SQL.
STARTUP_QUERY = "SELECT version_num FROM alembic_version"


def pg_schema_url(schema: str) -> str:
    """The test server's URL with ``schema`` first on the search path."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


Statement = tuple[str, Any, bool]  # as the driver got it: SQL, parameters, executemany


def _is_read(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("SELECT", "SHOW"))


def check_schema(url: str) -> None:
    """Fail the session if the database at ``url`` does not hold the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from formserver.core import db
    from formserver.core.models import Base

    engine = db.make_engine(url, pooled=False)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            revision = db.stored_revision(engine)
    finally:
        engine.dispose()
    if diffs or revision != db.code_revision():
        pytest.fail(f"migrations and models differ on {engine.name} ({revision}): {diffs}")


def migrate_and_record(url: str) -> list[Statement]:
    """Migrate ``url`` as start-up does and return every statement Alembic sent, to replay."""
    from formserver.core import db

    statements: list[Statement] = []
    options = make_url(url).query.get("options")

    def record(conn, _cursor, statement: str, parameters: Any, _context, many: bool) -> None:
        # Alembic's reads (is there a version table?) change nothing: only its writes replay.
        if conn.engine.url.query.get("options") == options and not _is_read(statement):
            statements.append((statement, parameters, many))

    engine = db.make_engine(url, pooled=False)
    # After, not before: start-up's first question fails on an empty schema, and is not replayed.
    event.listen(Engine, "after_cursor_execute", record)
    try:
        db.migrate_if_behind(engine, url)
    finally:
        event.remove(Engine, "after_cursor_execute", record)
        engine.dispose()
    check_schema(url)
    return statements


@contextmanager
def pg_copy(admin: Engine, statements: list[Statement] | None) -> Iterator[str]:
    """A URL to a schema of the test's own, dropped after: empty, or migrated by replay.

    Replaying the recorded migration in one transaction costs a fraction of running Alembic, and
    a schema, unlike ``CREATE DATABASE ... TEMPLATE``, copies no catalog: a few kB of WAL.
    """
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn, conn.begin():
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        if statements:
            conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            cursor = conn.connection.cursor()
            if not any(parameters for _, parameters, _ in statements):
                # One round trip: the driver takes several statements without parameters at once.
                cursor.execute(";\n".join(statement for statement, _, _ in statements))
            else:
                for statement, parameters, many in statements:
                    (cursor.executemany if many else cursor.execute)(statement, parameters)
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn, conn.begin():
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def no_sql_on(database: str, test: str) -> Iterator[None]:
    """Fail ``test`` if it issues SQL on ``database`` beyond the start-up revision check."""
    seen: list[str] = []

    def record(conn, _cursor, statement: str, *_args) -> None:
        if conn.engine.url.database == database and statement.strip() != STARTUP_QUERY:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    if seen:
        pytest.fail(
            f"{test} uses the database ({seen[0][:60]!r}): take it out of ONE_BACKEND"
            " in tests/databases.py so that it runs on PostgreSQL too"
        )
