"""The app starts on embedded defaults and on PostgreSQL, with its schema in place."""

from sqlalchemy import inspect

from formserver.core import db


def test_schema_is_created_on_first_start(app):
    with app.app_context():
        tables = set(inspect(db.engine()).get_table_names())
    assert {"leads", "submissions", "consents", "enrolments", "sends", "events"} <= tables
