"""money in 64-bit columns; indexes for the lists' filters and sorts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Every amount of money, in pence. SQLite's INTEGER is 64-bit already, so only PostgreSQL's columns change
# (ALTER ... TYPE bigint rewrites each table, keeping its rows).
MONEY_COLUMNS = {
    'fund_year': ('budget_pence', 'per_bid_cap_pence', 'per_applicant_cap_pence', 'delegation_limit_pence',
                  'committed_pence'),
    'bid': ('other_funding_pence',),
    'budget_line': ('amount_pence',),
    'assessment': ('recommended_pence',),
    'decision': ('amount_pence',),
    'award': ('amount_pence',),
    'grant_agreement': ('amount_pence', 'scheduled_pence', 'repayment_due_pence'),
    'payment': ('amount_pence',),
    'measure_value': ('value',),
    'return_spend': ('spent_pence',),
}

# (name, table, columns): each list's filter and sort, so a page reads only its rows.
INDEXES = (
    ('ix_audit_event_object_time', 'audit_event', ('object_type', 'object_id', 'occurred_at', 'id')),
    ('ix_bid_submitted', 'bid', ('submitted_at', 'id')),
    ('ix_bid_status_submitted', 'bid', ('status', 'submitted_at', 'id')),
    ('ix_bid_organisation_updated', 'bid', ('organisation_id', 'updated_at', 'id')),
    ('ix_award_approved', 'award', ('approved_at', 'id')),
    ('ix_grant_agreement_created', 'grant_agreement', ('created_at', 'id')),
    ('ix_grant_agreement_status_created', 'grant_agreement', ('status', 'created_at', 'id')),
    ('ix_grant_agreement_organisation_created', 'grant_agreement', ('organisation_id', 'created_at')),
    ('ix_payment_status_due', 'payment', ('status', 'due_on', 'id')),
    ('ix_payment_status_paid', 'payment', ('status', 'paid_on', 'id')),
    ('ix_monitoring_return_status_due', 'monitoring_return', ('status', 'due_on', 'id')),
    ('ix_user_name', 'user', ('name', 'id')),
    ('ix_user_role_name', 'user', ('role', 'name', 'id')),
    ('ix_user_organisation_active', 'user', ('organisation_id', 'active')),
    ('ix_outbox_email_created', 'outbox_email', ('created_at', 'id')),
)


def _money(type_: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in MONEY_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=type_)


def upgrade():
    _money(sa.BigInteger())
    # A record's history is now found and ordered by one index (which also serves the old one's lookups).
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index('ix_audit_event_object', 'audit_event', ['object_type', 'object_id'])
    _money(sa.Integer())
