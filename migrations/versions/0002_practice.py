"""practice sessions, items and answers; the wrong-answer book

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:27:54.515432
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "practice_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("knowledge_area_id", sa.Integer(), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["knowledge_area_id"],
            ["knowledge_areas.id"],
            name=op.f("fk_practice_sessions_knowledge_area_id_knowledge_areas"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_practice_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_sessions")),
    )
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_practice_sessions_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "practice_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("question_version", sa.Integer(), nullable=False),
        sa.Column("knowledge_area_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("stem", sa.Text(), nullable=False),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "answer",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["knowledge_area_id"],
            ["knowledge_areas.id"],
            name=op.f("fk_practice_items_knowledge_area_id_knowledge_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_practice_items_question_id_questions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["practice_sessions.id"],
            name=op.f("fk_practice_items_session_id_practice_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_items")),
        sa.UniqueConstraint("session_id", "position", name=op.f("uq_practice_items_session_id_position")),
    )
    with op.batch_alter_table("practice_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_practice_items_question_id"), ["question_id"], unique=False)

    op.create_table(
        "wrong_book",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("wrong_count", sa.Integer(), nullable=False),
        sa.Column("right_streak", sa.Integer(), nullable=False),
        sa.Column("last_wrong_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_by_quiz_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("right_streak >= 0", name=op.f("ck_wrong_book_right_streak_nonnegative")),
        sa.CheckConstraint("wrong_count > 0", name=op.f("ck_wrong_book_wrong_count_positive")),
        sa.ForeignKeyConstraint(
            ["held_by_quiz_id"],
            ["quizzes.id"],
            name=op.f("fk_wrong_book_held_by_quiz_id_quizzes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_wrong_book_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wrong_book_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrong_book")),
        sa.UniqueConstraint("user_id", "question_id", name=op.f("uq_wrong_book_user_id_question_id")),
    )
    with op.batch_alter_table("wrong_book", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wrong_book_question_id"), ["question_id"], unique=False)

    op.create_table(
        "practice_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("awarded_milli", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("answered_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["practice_items.id"],
            name=op.f("fk_practice_answers_item_id_practice_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["practice_sessions.id"],
            name=op.f("fk_practice_answers_session_id_practice_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_answers")),
        sa.UniqueConstraint("session_id", "item_id", name=op.f("uq_practice_answers_session_id_item_id")),
    )
    with op.batch_alter_table("practice_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_practice_answers_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("practice_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_answers_item_id"))

    op.drop_table("practice_answers")
    with op.batch_alter_table("wrong_book", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wrong_book_question_id"))

    op.drop_table("wrong_book")
    with op.batch_alter_table("practice_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_items_question_id"))

    op.drop_table("practice_items")
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_sessions_user_id_created_at")

    op.drop_table("practice_sessions")
