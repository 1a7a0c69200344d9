"""credits ledger

Revision ID: 0003
Revises: 0002


"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('overdraft_limit', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(kind = 'organisation') = (organisation_id IS NOT NULL)", name=op.f('ck_ledger_accounts_owner_matches_kind')),
    sa.CheckConstraint("kind IN ('organisation','issuance','escrow')", name=op.f('ck_ledger_accounts_kind_known')),
    sa.CheckConstraint('overdraft_limit IS NULL OR balance >= -overdraft_limit', name=op.f('ck_ledger_accounts_within_overdraft')),
    sa.CheckConstraint('overdraft_limit IS NULL OR overdraft_limit >= 0', name=op.f('ck_ledger_accounts_overdraft_non_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_ledger_accounts_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_accounts_code')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_ledger_accounts_organisation_id'))
    )
    op.create_table('ledger_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('from_account_id', sa.Integer(), nullable=False),
    sa.Column('to_account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('invoice_reference', sa.String(length=100), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('escrow_owner_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('allocation','purchase','grant','hold','release','settle','forfeit','adjustment','reversal')", name=op.f('ck_ledger_transfers_kind_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_transfers_amount_positive')),
    sa.CheckConstraint('from_account_id <> to_account_id', name=op.f('ck_ledger_transfers_distinct_accounts')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ledger_transfers_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escrow_owner_id'], ['organisations.id'], name=op.f('fk_ledger_transfers_escrow_owner_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_transfers_from_account_id_ledger_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transfers.id'], name=op.f('fk_ledger_transfers_reverses_id_ledger_transfers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_transfers_to_account_id_ledger_accounts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transfers')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_transfers_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transfers_reverses_id'))
    )
    with op.batch_alter_table('ledger_transfers', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_transfers_booking_id', ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_transfers_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_ledger_transfers_escrow_owner_id', ['escrow_owner_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_entries_amount_non_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_entries_account_id_ledger_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transfer_id'], ['ledger_transfers.id'], name=op.f('fk_ledger_entries_transfer_id_ledger_transfers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_transfer_id'), ['transfer_id'], unique=False)

    # Entries and transfers are append-only: the database itself refuses UPDATE and DELETE.
    # (The same statements as app/models/ledger.py, copied: a migration must not change
    # when the application code does.)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END $$"
        )
        for table in ("ledger_entries", "ledger_transfers"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
    else:
        for table in ("ledger_entries", "ledger_transfers"):
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade():
    # Dropping the tables drops their triggers; the PostgreSQL function goes too.
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_transfer_id'))
        batch_op.drop_index('ix_ledger_entries_account_id_id')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('ledger_transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_transfers_escrow_owner_id')
        batch_op.drop_index(batch_op.f('ix_ledger_transfers_created_at'))
        batch_op.drop_index('ix_ledger_transfers_booking_id')

    op.drop_table('ledger_transfers')
    op.drop_table('ledger_accounts')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
