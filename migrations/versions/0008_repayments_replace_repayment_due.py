"""repayments replace the agreement's repayment due column

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00

Migration 0007 copied each agreement's repayment_due_pence into a repayment row; nothing reads the column now.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grant_agreement', schema=None) as batch_op:
        batch_op.drop_constraint('repayment', type_='check')
        batch_op.drop_column('repayment_due_pence')


def downgrade():
    with op.batch_alter_table('grant_agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repayment_due_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_check_constraint('repayment', 'repayment_due_pence IS NULL OR repayment_due_pence >= 0')
    # What each agreement's grantee is to repay: every repayment asked for, a written-off one at what was
    # received before it was written off; none is NULL, as the column held it.
    op.execute(sa.text(
        "UPDATE grant_agreement SET repayment_due_pence = (SELECT NULLIF(SUM(CASE WHEN repayment.status = 'cancelled' "
        "THEN repayment.received_pence ELSE repayment.amount_pence END), 0) FROM repayment "
        "WHERE repayment.agreement_id = grant_agreement.id)"))
