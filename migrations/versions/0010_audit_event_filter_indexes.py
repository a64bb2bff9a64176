"""indexes for the admin audit page's filters: record type, action and who, each newest first

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_audit_event_type_time': ['object_type', 'occurred_at', 'id'],
    'ix_audit_event_action_time': ['action', 'occurred_at', 'id'],
    'ix_audit_event_actor_time': ['actor_id', 'occurred_at', 'id'],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, 'audit_event', columns)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='audit_event')
