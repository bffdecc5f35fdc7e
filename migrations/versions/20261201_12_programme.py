"""week 16: one selection in force, the programme, poster boards and ballots

Revision ID: 20261201_12
Revises: 20261201_11
Create Date: 2026-12-01 12:25:31.687181
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "20261201_12"
down_revision: str | None = "20261201_11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("order_mode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("poster_starts_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("poster_ends_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("poster_room", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("ballots_open", sa.Boolean(), nullable=False),
        sa.Column("max_ballots", sa.Integer(), nullable=False),
        sa.Column("ballots_count", sa.Boolean(), nullable=False),
        sa.Column("ballot_weight", sa.Float(), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("order_mode IN ('ranking', 'random')", name=op.f("ck_programme_order_mode")),
        sa.CheckConstraint("ballot_weight >= 0 AND ballot_weight <= 100", name=op.f("ck_programme_ballot_weight")),
        sa.CheckConstraint("max_ballots >= 0", name=op.f("ck_programme_max_ballots")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_programme_course_id_course"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["user.id"], name=op.f("fk_programme_published_by_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
        sa.UniqueConstraint("course_id", name=op.f("uq_programme_course_id")),
    )
    op.create_table(
        "programme_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("room", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("talk_minutes", sa.Integer(), nullable=False),
        sa.Column("changeover_minutes", sa.Integer(), nullable=False),
        sa.Column("breaks", sa.JSON(), nullable=False),
        sa.Column("max_talks", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("changeover_minutes >= 0", name=op.f("ck_programme_session_changeover_minutes")),
        sa.CheckConstraint("talk_minutes > 0", name=op.f("ck_programme_session_talk_minutes")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_programme_session_course_id_course"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_session")),
    )
    with op.batch_alter_table("programme_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_session_course_id"), ["course_id"], unique=False)

    op.create_table(
        "poster_ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("cast_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score >= 1 AND score <= 5", name=op.f("ck_poster_ballot_score")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_poster_ballot_course_id_course"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["project_group.id"], name=op.f("fk_poster_ballot_group_id_project_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["user.id"], name=op.f("fk_poster_ballot_voter_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poster_ballot")),
        sa.UniqueConstraint("voter_id", "group_id", name=op.f("uq_poster_ballot_voter_id_group_id")),
    )
    with op.batch_alter_table("poster_ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poster_ballot_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_poster_ballot_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_poster_ballot_voter_id"), ["voter_id"], unique=False)

    op.create_table(
        "poster_board",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("assigned_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_poster_board_number")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_poster_board_course_id_course"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["project_group.id"], name=op.f("fk_poster_board_group_id_project_group"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poster_board")),
        sa.UniqueConstraint("course_id", "number", name=op.f("uq_poster_board_course_id_number")),
        sa.UniqueConstraint("group_id", name=op.f("uq_poster_board_group_id")),
    )
    with op.batch_alter_table("poster_board", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poster_board_course_id"), ["course_id"], unique=False)

    op.create_table(
        "programme_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_programme_slot_course_id_course"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["project_group.id"],
            name=op.f("fk_programme_slot_group_id_project_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["programme_session.id"],
            name=op.f("fk_programme_slot_session_id_programme_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_slot")),
        sa.UniqueConstraint("group_id", name=op.f("uq_programme_slot_group_id")),
        sa.UniqueConstraint("session_id", "position", name=op.f("uq_programme_slot_session_id_position")),
    )
    with op.batch_alter_table("programme_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_slot_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_programme_slot_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("project_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deliverable_changed_at", app.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("selection_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("supersede_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("changed_groups", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("forced_past_deadline", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(op.f("ck_selection_run_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_selection_run_status"), "status IN ('draft', 'published', 'superseded')"
        )
        batch_op.create_index(
            "uq_selection_run_in_force",
            ["course_id"],
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_selection_run_supersedes_id_selection_run"),
            "selection_run",
            ["supersedes_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recheck_report", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rechecked_at", app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("rechecked_at")
        batch_op.drop_column("recheck_report")

    with op.batch_alter_table("selection_run", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_selection_run_supersedes_id_selection_run"), type_="foreignkey")
        batch_op.drop_index(
            "uq_selection_run_in_force",
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )
        batch_op.drop_column("forced_past_deadline")
        batch_op.drop_constraint(op.f("ck_selection_run_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_selection_run_status"), "status IN ('draft', 'published')")
        batch_op.drop_column("changed_groups")
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("supersede_reason")
        batch_op.drop_column("supersedes_id")

    with op.batch_alter_table("project_group", schema=None) as batch_op:
        batch_op.drop_column("deliverable_changed_at")

    with op.batch_alter_table("programme_slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_slot_session_id"))
        batch_op.drop_index(batch_op.f("ix_programme_slot_course_id"))

    op.drop_table("programme_slot")
    with op.batch_alter_table("poster_board", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poster_board_course_id"))

    op.drop_table("poster_board")
    with op.batch_alter_table("poster_ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poster_ballot_voter_id"))
        batch_op.drop_index(batch_op.f("ix_poster_ballot_group_id"))
        batch_op.drop_index(batch_op.f("ix_poster_ballot_course_id"))

    op.drop_table("poster_ballot")
    with op.batch_alter_table("programme_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_session_course_id"))

    op.drop_table("programme_session")
    op.drop_table("programme")
