"""Enrolment invitations for roster lines that reach people outside the course

Revision ID: 20261201_21
Revises: 20261201_12
Create Date: 2026-12-01 16:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "20261201_21"
down_revision: str | None = "20261201_12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "course_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("student_no", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("declined_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('student', 'ta')", name=op.f("ck_course_invitation_role")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_invitation_course_id_course"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_course_invitation_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["user.id"], name=op.f("fk_course_invitation_invited_by_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_invitation")),
    )
    with op.batch_alter_table("course_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_invitation_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_course_invitation_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("course_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_invitation_user_id"))
        batch_op.drop_index(batch_op.f("ix_course_invitation_course_id"))
    op.drop_table("course_invitation")
