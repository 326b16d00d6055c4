"""Idempotency records keep outcome names instead of HTTP status codes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration must keep meaning what it meant when the
# application's names move on. These are every status code the records were written with.
OUTCOME_OF_STATUS = {
    201: "purchased",
    402: "insufficient_credit",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
}

records = sa.table(
    "idempotency_records",
    sa.column("status_code", sa.Integer()),
    sa.column("outcome", sa.String(40)),
)


def upgrade() -> None:
    _convert(
        new=sa.Column("outcome", sa.String(length=40), nullable=True),
        values=sa.case(OUTCOME_OF_STATUS, value=records.c.status_code),
        old="status_code",
    )


def downgrade() -> None:
    _convert(
        new=sa.Column("status_code", sa.Integer(), nullable=True),
        values=sa.case(
            {outcome: status for status, outcome in OUTCOME_OF_STATUS.items()},
            value=records.c.outcome,
        ),
        old="outcome",
    )


def _convert(new: sa.Column, values: sa.ColumnElement, old: str) -> None:
    """Add ``new``, fill it with ``values`` computed from ``old``, then drop ``old``.

    A value with no counterpart is left NULL, so making the column NOT NULL fails: the
    migration stops rather than lose a record's answer.
    """
    name = new.name
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.add_column(new)
    op.execute(records.update().values({name: values}))
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.alter_column(name, existing_type=new.type, nullable=False)
        batch_op.drop_column(old)
