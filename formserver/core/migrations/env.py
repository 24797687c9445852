"""Alembic environment: the URL comes from the caller's config, the schema from models."""

from alembic import context
from sqlalchemy import create_engine, pool

from formserver.core.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    """The database URL that ``formserver.core.db.alembic_config`` always sets."""
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no sqlalchemy.url: run migrations with formserver.core.db.upgrade")
    return url


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
