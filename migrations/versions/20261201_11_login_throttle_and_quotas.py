"""login throttle table and per-group upload quotas

Revision ID: 20261201_11
Revises: 20261201_14
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "20261201_11"
down_revision: str | None = "20261201_14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
        sa.UniqueConstraint("key", name=op.f("uq_login_throttle_key")),
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_versions_per_milestone", sa.Integer(), nullable=False, server_default="20"))
        batch_op.add_column(sa.Column("max_group_storage_mb", sa.Integer(), nullable=False, server_default="200"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("max_group_storage_mb")
        batch_op.drop_column("max_versions_per_milestone")
    op.drop_table("login_throttle")
