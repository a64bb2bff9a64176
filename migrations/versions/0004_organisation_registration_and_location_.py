"""organisation registration and location, published summary of an award

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 11:37:43.928893

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Existing awards are published under their bid's title until an officer writes a summary.
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_summary', sa.Text(), nullable=False, server_default=''))
    op.execute("UPDATE award SET public_summary = (SELECT bid.title FROM bid WHERE bid.id = award.bid_id)")
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.alter_column('public_summary', server_default=None)

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_summary', sa.Text(), nullable=True))

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charity_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('company_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('postcode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('district_code', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('district_name', sa.String(length=100), nullable=True))



def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('district_name')
        batch_op.drop_column('district_code')
        batch_op.drop_column('postcode')
        batch_op.drop_column('company_number')
        batch_op.drop_column('charity_number')

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('public_summary')

    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.drop_column('public_summary')

