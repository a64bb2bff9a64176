"""variations, repayments and receipts, versioned standard conditions, close-out figures, bid documents

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 02:29:11.008373

"""
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa

# The standard conditions every agreement was prepared with until now: version 1.
CONDITIONS_V1 = """\
1. The grant is used only for the purpose, activities and budget set out in the bid and this agreement.
2. Any part of the grant not spent on that purpose by the end date, or spent in breach of these conditions, \
is repaid to the Office of the Police and Crime Commissioner on request.
3. The grantee sends a monitoring return on progress, outcome measures and spending for each reporting \
period the grant runs in (half-years from 1 April and 1 October, or quarters where the fund reports \
quarterly), by the date the OPCC sets.
4. Payments are made as the work needs them, not in advance of need, against the payment schedule.
5. The grantee tells the OPCC at once of any change to the work, its costs or its timing, of any suspected \
fraud or irregularity, and of any safeguarding concern.
6. The grantee keeps records of spending for six years and lets the OPCC or its auditors see them.
7. The grantee acknowledges the Police and Crime Commissioner's funding in any publicity about the work.
8. The grantee handles personal data lawfully under UK data protection law."""


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('conditions_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_conditions_version_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conditions_version')),
    sa.UniqueConstraint('number', name=op.f('uq_conditions_version_number'))
    )
    op.create_table('bid_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_document_bid_id_bid')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_bid_document_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_document')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_bid_document_stored_name'))
    )
    with op.batch_alter_table('bid_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_document_bid_id'), ['bid_id'], unique=False)

    op.create_table('agreement_variation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('old_amount_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('new_amount_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('old_end_date', sa.Date(), nullable=False),
    sa.Column('new_end_date', sa.Date(), nullable=False),
    sa.Column('old_special_conditions', sa.Text(), nullable=False),
    sa.Column('new_special_conditions', sa.Text(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('committed_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_name', sa.String(length=200), nullable=False),
    sa.Column('accepted_role', sa.String(length=200), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status in ('awaiting_approval','offered','accepted','declined','withdrawn','refused')", name=op.f('ck_agreement_variation_status')),
    sa.CheckConstraint('committed_pence >= 0', name=op.f('ck_agreement_variation_committed')),
    sa.CheckConstraint('new_amount_pence > 0', name=op.f('ck_agreement_variation_amount')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['user.id'], name=op.f('fk_agreement_variation_accepted_by_id_user')),
    sa.ForeignKeyConstraint(['agreement_id'], ['grant_agreement.id'], name=op.f('fk_agreement_variation_agreement_id_grant_agreement')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_agreement_variation_decided_by_id_user')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_agreement_variation_proposed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_variation')),
    sa.UniqueConstraint('agreement_id', 'number', name='uq_agreement_variation_number')
    )
    with op.batch_alter_table('agreement_variation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_variation_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('repayment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('received_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status in ('due','part_received','received','cancelled')", name=op.f('ck_repayment_status')),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_repayment_amount')),
    sa.CheckConstraint('received_pence >= 0 AND received_pence <= amount_pence', name=op.f('ck_repayment_received')),
    sa.ForeignKeyConstraint(['agreement_id'], ['grant_agreement.id'], name=op.f('fk_repayment_agreement_id_grant_agreement')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_repayment_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment'))
    )
    with op.batch_alter_table('repayment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repayment_status'), ['status'], unique=False)

    op.create_table('repayment_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('repayment_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_repayment_receipt_amount')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_repayment_receipt_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['repayment_id'], ['repayment.id'], name=op.f('fk_repayment_receipt_repayment_id_repayment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment_receipt'))
    )
    with op.batch_alter_table('repayment_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_receipt_repayment_id'), ['repayment_id'], unique=False)

    conn = op.get_bind()
    conditions = sa.table('conditions_version', sa.column('number', sa.Integer), sa.column('text', sa.Text),
                          sa.column('effective_from', sa.Date), sa.column('created_at', sa.DateTime(timezone=True)))
    conn.execute(conditions.insert().values(number=1, text=CONDITIONS_V1, effective_from=date(2025, 4, 1),
                                            created_at=sa.func.now()))

    # A repayment recorded when a grant ended becomes a repayment owed, with nothing received yet (the
    # column it came from goes once nothing reads it).
    owed = conn.execute(sa.text(
        "SELECT id, repayment_due_pence, end_reason, ended_at, prepared_by_id FROM grant_agreement "
        "WHERE repayment_due_pence > 0")).all()
    repayments = sa.table('repayment', sa.column('agreement_id', sa.Integer), sa.column('amount_pence', sa.BigInteger),
                          sa.column('received_pence', sa.BigInteger), sa.column('status', sa.String),
                          sa.column('reason', sa.Text), sa.column('due_on', sa.Date),
                          sa.column('created_by_id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)),
                          sa.column('version', sa.Integer))
    for row in owed:
        ended = row.ended_at if not isinstance(row.ended_at, str) else None
        ended_on = ended.date() if ended is not None else date.today()
        conn.execute(repayments.insert().values(
            agreement_id=row.id, amount_pence=row.repayment_due_pence, received_pence=0, status='due',
            reason=row.end_reason or 'Repayment due when the grant ended', due_on=ended_on + timedelta(days=30),
            created_by_id=row.prepared_by_id, created_at=sa.func.now(), version=1))

    with op.batch_alter_table('grant_agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conditions_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('final_spent_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('released_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_check_constraint('released', 'released_pence IS NULL OR released_pence >= 0')
    conn.execute(sa.text("UPDATE grant_agreement SET conditions_version = 1 WHERE standard_conditions = :text"),
                 {"text": CONDITIONS_V1})



def downgrade():
    with op.batch_alter_table('grant_agreement', schema=None) as batch_op:
        batch_op.drop_constraint('released', type_='check')
        batch_op.drop_column('released_pence')
        batch_op.drop_column('final_spent_pence')
        batch_op.drop_column('conditions_version')

    with op.batch_alter_table('repayment_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayment_receipt_repayment_id'))

    op.drop_table('repayment_receipt')
    with op.batch_alter_table('repayment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayment_status'))
        batch_op.drop_index(batch_op.f('ix_repayment_agreement_id'))

    op.drop_table('repayment')
    with op.batch_alter_table('agreement_variation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_variation_agreement_id'))

    op.drop_table('agreement_variation')
    with op.batch_alter_table('bid_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_document_bid_id'))

    op.drop_table('bid_document')
    op.drop_table('conditions_version')
