"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:03:34.560791
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banks")),
        sa.UniqueConstraint("name", name=op.f("uq_banks_name")),
    )
    op.create_table(
        "knowledge_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=500), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["knowledge_areas.id"],
            name=op.f("fk_knowledge_areas_parent_id_knowledge_areas"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_areas")),
        sa.UniqueConstraint("full_name", name=op.f("uq_knowledge_areas_full_name")),
    )
    with op.batch_alter_table("knowledge_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_areas_path"), ["path"], unique=False)

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_path"), ["path"], unique=False)

    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
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
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("difficulty BETWEEN 1 AND 5", name=op.f("ck_questions_difficulty_range")),
        sa.CheckConstraint("points > 0", name=op.f("ck_questions_points_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_questions_version_positive")),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_questions_bank_id_banks"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["knowledge_area_id"],
            ["knowledge_areas.id"],
            name=op.f("fk_questions_knowledge_area_id_knowledge_areas"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questions_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_fingerprint"), ["fingerprint"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_questions_knowledge_area_id"), ["knowledge_area_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_questions_status"), ["status"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("police_number", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_users_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("police_number", name=op.f("uq_users_police_number")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_unit_id_role", ["unit_id", "role"], unique=False)

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "quizzes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("time_limit_seconds", sa.Integer(), nullable=False),
        sa.Column("opens_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closes_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts_allowed", sa.Integer(), nullable=False),
        sa.Column("pass_percent", sa.Integer(), nullable=False),
        sa.Column("multiple_scoring", sa.String(length=20), nullable=False),
        sa.Column("review_policy", sa.String(length=20), nullable=False),
        sa.Column("shuffle_questions", sa.Boolean(), nullable=False),
        sa.Column("shuffle_options", sa.Boolean(), nullable=False),
        sa.Column("draw_seed", sa.String(length=64), nullable=True),
        sa.Column("draw_counter", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts_allowed > 0", name=op.f("ck_quizzes_attempts_allowed_positive")),
        sa.CheckConstraint("pass_percent BETWEEN 0 AND 100", name=op.f("ck_quizzes_pass_percent_range")),
        sa.CheckConstraint("time_limit_seconds > 0", name=op.f("ck_quizzes_time_limit_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_quizzes_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes")),
    )
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quizzes_status"), ["status"], unique=False)

    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("finish_reason", sa.String(length=20), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("draw_index", sa.Integer(), nullable=False),
        sa.Column("started_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("score_milli", sa.Integer(), nullable=True),
        sa.Column("max_score_milli", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_attempts_quiz_id_quizzes"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_attempts_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_attempts_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint("quiz_id", "user_id", "number", name=op.f("uq_attempts_quiz_id_user_id_number")),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attempts_quiz_id"), ["quiz_id"], unique=False)
        batch_op.create_index("ix_attempts_status_deadline", ["status", "deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_attempts_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_attempts_user_id_quiz_id", ["user_id", "quiz_id"], unique=False)

    op.create_table(
        "quiz_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("knowledge_area_id", sa.Integer(), nullable=True),
        sa.Column("include_subareas", sa.Boolean(), nullable=False),
        sa.Column("question_type", sa.String(length=20), nullable=True),
        sa.Column("difficulty_min", sa.Integer(), nullable=False),
        sa.Column("difficulty_max", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column(
            "pool",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint("count > 0", name=op.f("ck_quiz_rules_count_positive")),
        sa.CheckConstraint(
            "difficulty_min BETWEEN 1 AND 5 AND difficulty_max BETWEEN 1 AND 5",
            name=op.f("ck_quiz_rules_difficulty"),
        ),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_quiz_rules_bank_id_banks"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["knowledge_area_id"],
            ["knowledge_areas.id"],
            name=op.f("fk_quiz_rules_knowledge_area_id_knowledge_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_rules_quiz_id_quizzes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_rules")),
        sa.UniqueConstraint("quiz_id", "position", name=op.f("uq_quiz_rules_quiz_id_position")),
    )
    with op.batch_alter_table("quiz_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_rules_quiz_id"), ["quiz_id"], unique=False)

    op.create_table(
        "quiz_targets",
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("include_subunits", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_targets_quiz_id_quizzes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_quiz_targets_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("quiz_id", "unit_id", name=op.f("pk_quiz_targets")),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_refresh_tokens_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_tokens_session_id"), ["session_id"], unique=False)

    op.create_table(
        "attempt_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("question_version", sa.Integer(), nullable=False),
        sa.Column("rule_position", sa.Integer(), nullable=False),
        sa.Column("knowledge_area_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("difficulty", sa.Integer(), nullable=False),
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
        sa.Column("awarded_milli", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["attempts.id"],
            name=op.f("fk_attempt_items_attempt_id_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["knowledge_area_id"],
            ["knowledge_areas.id"],
            name=op.f("fk_attempt_items_knowledge_area_id_knowledge_areas"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_attempt_items_question_id_questions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_items")),
        sa.UniqueConstraint("attempt_id", "position", name=op.f("uq_attempt_items_attempt_id_position")),
    )
    with op.batch_alter_table("attempt_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attempt_items_question_id"), ["question_id"], unique=False)

    op.create_table(
        "attempt_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("saved_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["attempts.id"],
            name=op.f("fk_attempt_responses_attempt_id_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["attempt_items.id"],
            name=op.f("fk_attempt_responses_item_id_attempt_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_responses")),
        sa.UniqueConstraint("attempt_id", "item_id", name=op.f("uq_attempt_responses_attempt_id_item_id")),
    )


def downgrade() -> None:
    op.drop_table("attempt_responses")
    with op.batch_alter_table("attempt_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_items_question_id"))

    op.drop_table("attempt_items")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_session_id"))

    op.drop_table("refresh_tokens")
    op.drop_table("quiz_targets")
    with op.batch_alter_table("quiz_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_rules_quiz_id"))

    op.drop_table("quiz_rules")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_user_id_quiz_id")
        batch_op.drop_index(batch_op.f("ix_attempts_unit_id"))
        batch_op.drop_index("ix_attempts_status_deadline")
        batch_op.drop_index(batch_op.f("ix_attempts_quiz_id"))

    op.drop_table("attempts")
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quizzes_status"))

    op.drop_table("quizzes")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))

    op.drop_table("auth_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_unit_id_role")

    op.drop_table("users")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_status"))
        batch_op.drop_index(batch_op.f("ix_questions_knowledge_area_id"))
        batch_op.drop_index(batch_op.f("ix_questions_fingerprint"))
        batch_op.drop_index(batch_op.f("ix_questions_bank_id"))

    op.drop_table("questions")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_path"))

    op.drop_table("units")
    with op.batch_alter_table("knowledge_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_areas_path"))

    op.drop_table("knowledge_areas")
    op.drop_table("banks")
