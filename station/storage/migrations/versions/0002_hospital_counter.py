"""Hospital counter: packages, admissions, card transactions, overrides, fraud flags, claims queue.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:14:19.854956
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hospital_admission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=7), nullable=False),
    sa.Column('hospital_id', sa.String(length=8), nullable=False),
    sa.Column('card_serial', sa.String(length=16), nullable=False),
    sa.Column('urn', sa.String(length=17), nullable=False),
    sa.Column('member_index', sa.Integer(), nullable=False),
    sa.Column('member_name', sa.String(length=120), nullable=False),
    sa.Column('member_gender', sa.String(length=1), nullable=False),
    sa.Column('member_age', sa.Integer(), nullable=False),
    sa.Column('policy_slot', sa.Integer(), nullable=False),
    sa.Column('policy_number', sa.String(length=24), nullable=False),
    sa.Column('package_code', sa.String(length=16), nullable=False),
    sa.Column('preauth_ref', sa.String(length=40), nullable=False),
    sa.Column('blocked', sa.Integer(), nullable=False),
    sa.Column('final_amount', sa.Integer(), nullable=True),
    sa.Column('transport_amount', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('blocking', 'admitted', 'discharging', 'discharged', 'cancelled', name='admissionstate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('verification', sa.Enum('finger', 'other_finger', 'attendant', 'override', name='verifymethod', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('attendant_index', sa.Integer(), nullable=True),
    sa.Column('staff', sa.String(length=64), nullable=False),
    sa.Column('admitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('discharged_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_admission')),
    sa.UniqueConstraint('ref', name=op.f('uq_hospital_admission_ref'))
    )
    with op.batch_alter_table('hospital_admission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hospital_admission_card_serial'), ['card_serial'], unique=False)
        batch_op.create_index(batch_op.f('ix_hospital_admission_urn'), ['urn'], unique=False)

    op.create_table('hospital_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_serial', sa.String(length=16), nullable=False),
    sa.Column('member_index', sa.Integer(), nullable=False),
    sa.Column('staff', sa.String(length=64), nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('photo_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_override'))
    )
    with op.batch_alter_table('hospital_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hospital_override_card_serial'), ['card_serial'], unique=False)
        batch_op.create_index(batch_op.f('ix_hospital_override_staff'), ['staff'], unique=False)

    op.create_table('hospital_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('rate', sa.Integer(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=False),
    sa.Column('max_age', sa.Integer(), nullable=False),
    sa.Column('preauth', sa.Boolean(), nullable=False),
    sa.Column('list_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_package')),
    sa.UniqueConstraint('code', name=op.f('uq_hospital_package_code'))
    )
    op.create_table('hospital_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'filed', name='claimstate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['hospital_admission.id'], name=op.f('fk_hospital_claim_admission_id_hospital_admission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_claim')),
    sa.UniqueConstraint('admission_id', name=op.f('uq_hospital_claim_admission_id'))
    )
    with op.batch_alter_table('hospital_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hospital_claim_day'), ['day'], unique=False)

    op.create_table('hospital_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('package_mismatch', 'beds_exceeded', 'overlapping_stay', 'repeated_overrides', 'preauth_missing', name='flagkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=True),
    sa.Column('card_serial', sa.String(length=16), nullable=False),
    sa.Column('staff', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['hospital_admission.id'], name=op.f('fk_hospital_flag_admission_id_hospital_admission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_flag'))
    )
    op.create_table('hospital_transaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('admission', 'discharge', 'transport', name='txnkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('state', sa.Enum('intent', 'done', 'abandoned', name='txnstate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hospital_txn', sa.Integer(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=True),
    sa.ForeignKeyConstraint(['admission_id'], ['hospital_admission.id'], name=op.f('fk_hospital_transaction_admission_id_hospital_admission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_transaction')),
    sa.UniqueConstraint('admission_id', 'kind', name=op.f('uq_hospital_transaction_admission_id'))
    )
    with op.batch_alter_table('hospital_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hospital_transaction_admission_id'), ['admission_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hospital_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hospital_transaction_admission_id'))

    op.drop_table('hospital_transaction')
    op.drop_table('hospital_flag')
    with op.batch_alter_table('hospital_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hospital_claim_day'))

    op.drop_table('hospital_claim')
    op.drop_table('hospital_package')
    with op.batch_alter_table('hospital_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hospital_override_staff'))
        batch_op.drop_index(batch_op.f('ix_hospital_override_card_serial'))

    op.drop_table('hospital_override')
    with op.batch_alter_table('hospital_admission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hospital_admission_urn'))
        batch_op.drop_index(batch_op.f('ix_hospital_admission_card_serial'))

    op.drop_table('hospital_admission')
