"""admin sessions: a session version per user, and the last login's address

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add admin_users.session_version (existing users start at 1) and last_login_ip."""
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("last_login_ip", sa.String(length=45), nullable=True))


def downgrade() -> None:
    """Drop the two columns again."""
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.drop_column("last_login_ip")
        batch_op.drop_column("session_version")
