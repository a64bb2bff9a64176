"""outbox emails name the user they were written to, and when that user read them in the app

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00

Mail queued before this revision named only an address: the user with that address (compared without regard
to case) becomes its recipient, so people see the emails they were already sent under Notifications. They are
left unread: nobody has opened them in the app yet.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_email_recipient_id_user'), 'user', ['recipient_id'], ['id'])
    op.create_index('ix_outbox_email_recipient_created', 'outbox_email', ['recipient_id', 'created_at', 'id'])
    # Addresses are stored lower-cased, but mail queued by hand or before that rule may differ in case; MIN picks
    # one user should two addresses ever differ only in case.
    op.execute(sa.text(
        'UPDATE outbox_email SET recipient_id = (SELECT MIN("user".id) FROM "user" '
        'WHERE lower("user".email) = lower(outbox_email.to_address))'))


def downgrade():
    op.drop_index('ix_outbox_email_recipient_created', table_name='outbox_email')
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_email_recipient_id_user'), type_='foreignkey')
        batch_op.drop_column('read_at')
        batch_op.drop_column('recipient_id')
