"""a grant's payments summed from one index; status served by the composite indexes alone

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 05:30:00

"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # The published grants sum each grant's paid payments; with an index on status alone SQLite chose it and
    # read every paid payment for each grant on the page.
    op.create_index('ix_payment_agreement_status', 'payment', ['agreement_id', 'status', 'amount_pence'])
    op.drop_index('ix_payment_agreement_id', table_name='payment')
    op.drop_index('ix_payment_status', table_name='payment')
    op.drop_index('ix_monitoring_return_status', table_name='monitoring_return')


def downgrade():
    op.create_index('ix_monitoring_return_status', 'monitoring_return', ['status'])
    op.create_index('ix_payment_status', 'payment', ['status'])
    op.create_index('ix_payment_agreement_id', 'payment', ['agreement_id'])
    op.drop_index('ix_payment_agreement_status', table_name='payment')
