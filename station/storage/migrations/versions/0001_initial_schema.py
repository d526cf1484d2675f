"""Initial schema: households, members, captures, card issuances, forms, audit chain.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 09:39:08.664651
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_event_prev_hash')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_event_seq'))
    )
    op.create_table('district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('state_code', sa.String(length=8), nullable=False),
    sa.Column('allow_duplicate_cards', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district')),
    sa.UniqueConstraint('code', name=op.f('uq_district_code'))
    )
    op.create_table('operator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('operator', 'supervisor', 'hospital_staff', 'district', name='role', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('key_salt', sa.LargeBinary(length=32), nullable=False),
    sa.Column('wrapped_data_key', sa.LargeBinary(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator')),
    sa.UniqueConstraint('login', name=op.f('uq_operator_login'))
    )
    op.create_table('scheme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheme')),
    sa.UniqueConstraint('code', name=op.f('uq_scheme_code'))
    )
    op.create_table('setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )
    op.create_table('household_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('signer', sa.String(length=120), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_household_list_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_list')),
    sa.UniqueConstraint('sha256', name=op.f('uq_household_list_sha256'))
    )
    op.create_table('village',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_village_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_village')),
    sa.UniqueConstraint('code', name=op.f('uq_village_code'))
    )
    op.create_table('camp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.String(length=40), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bundle_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['opened_by'], ['operator.id'], name=op.f('fk_camp_opened_by_operator')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_camp_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_camp')),
    sa.UniqueConstraint('code', name=op.f('uq_camp_code'))
    )
    op.create_table('household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('urn', sa.String(length=24), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('guardian_name', sa.String(length=120), nullable=False),
    sa.Column('insurer', sa.String(length=40), nullable=False),
    sa.Column('policy_number', sa.String(length=24), nullable=False),
    sa.Column('sum_insured', sa.Integer(), nullable=False),
    sa.Column('policy_start', sa.Date(), nullable=False),
    sa.Column('policy_end', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('listed', 'enrolling', 'captured', 'issuing', 'issued', name='householdstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('listed_members', sa.Integer(), nullable=False),
    sa.Column('needs_selection', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['household_list.id'], name=op.f('fk_household_list_id_household_list')),
    sa.ForeignKeyConstraint(['scheme_id'], ['scheme.id'], name=op.f('fk_household_scheme_id_scheme')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_household_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household')),
    sa.UniqueConstraint('urn', name=op.f('uq_household_urn'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_village_id'), ['village_id'], unique=False)

    op.create_table('card_issuance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('camp_id', sa.Integer(), nullable=False),
    sa.Column('card_serial', sa.String(length=40), nullable=False),
    sa.Column('state', sa.Enum('intent', 'personalised', 'authorised', 'complete', 'void', name='issuancestate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('duplicate', sa.Boolean(), nullable=False),
    sa.Column('fko_serial', sa.String(length=32), nullable=False),
    sa.Column('issuance_number', sa.Integer(), nullable=True),
    sa.Column('data_hash', sa.String(length=64), nullable=False),
    sa.Column('authorised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fko_counter_after', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['camp_id'], ['camp.id'], name=op.f('fk_card_issuance_camp_id_camp')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_card_issuance_household_id_household')),
    sa.ForeignKeyConstraint(['operator_id'], ['operator.id'], name=op.f('fk_card_issuance_operator_id_operator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_issuance')),
    sa.UniqueConstraint('card_serial', name=op.f('uq_card_issuance_card_serial')),
    sa.UniqueConstraint('household_id', 'number', name=op.f('uq_card_issuance_household_id'))
    )
    with op.batch_alter_table('card_issuance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_issuance_household_id'), ['household_id'], unique=False)

    op.create_table('form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camp_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('exclusion', 'grievance', name='formkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('applicant_name', sa.String(length=120), nullable=False),
    sa.Column('village_code', sa.String(length=16), nullable=False),
    sa.Column('urn', sa.String(length=24), nullable=False),
    sa.Column('members_claimed', sa.Integer(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['camp_id'], ['camp.id'], name=op.f('fk_form_camp_id_camp')),
    sa.ForeignKeyConstraint(['operator_id'], ['operator.id'], name=op.f('fk_form_operator_id_operator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form'))
    )
    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_local', sa.String(length=120), nullable=False),
    sa.Column('gender', sa.Enum('M', 'F', 'T', name='gender', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('year_of_birth', sa.Integer(), nullable=False),
    sa.Column('relationship', sa.Enum('head', 'spouse', 'son', 'daughter', 'father', 'mother', 'brother', 'sister', 'grandchild', 'daughter_in_law', 'son_in_law', 'other', name='relationship', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('insured', sa.Boolean(), nullable=False),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_member_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('household_id', 'seq', name=op.f('uq_member_household_id'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_name'), ['name'], unique=False)

    op.create_table('biometric_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('camp_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('photo', 'finger', name='capturekind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('reason', sa.Enum('poor_quality', 'missing_fingers', 'injury', 'child', 'photo_refused', 'device_failure', name='exceptionreason', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('fingers_tried', sa.String(length=64), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['camp_id'], ['camp.id'], name=op.f('fk_biometric_exception_camp_id_camp')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_biometric_exception_member_id_member')),
    sa.ForeignKeyConstraint(['operator_id'], ['operator.id'], name=op.f('fk_biometric_exception_operator_id_operator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_biometric_exception'))
    )
    with op.batch_alter_table('biometric_exception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_biometric_exception_member_id'), ['member_id'], unique=False)

    op.create_table('capture',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('camp_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('photo', 'finger', name='capturekind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('finger', sa.Integer(), nullable=False),
    sa.Column('quality', sa.Integer(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('payload_format', sa.String(length=24), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['camp_id'], ['camp.id'], name=op.f('fk_capture_camp_id_camp')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_capture_member_id_member')),
    sa.ForeignKeyConstraint(['operator_id'], ['operator.id'], name=op.f('fk_capture_operator_id_operator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capture'))
    )
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capture_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capture_member_id'))

    op.drop_table('capture')
    with op.batch_alter_table('biometric_exception', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_biometric_exception_member_id'))

    op.drop_table('biometric_exception')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_name'))

    op.drop_table('member')
    op.drop_table('form')
    with op.batch_alter_table('card_issuance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_issuance_household_id'))

    op.drop_table('card_issuance')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_village_id'))

    op.drop_table('household')
    op.drop_table('camp')
    op.drop_table('village')
    op.drop_table('household_list')
    op.drop_table('setting')
    op.drop_table('scheme')
    op.drop_table('operator')
    op.drop_table('district')
    op.drop_table('audit_event')
