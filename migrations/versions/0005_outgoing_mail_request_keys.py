"""outgoing mail and booking request keys

Revision ID: 0005
Revises: 0004

Reviewed: bookings gains a nullable column and a unique index, added in place on both
engines (no table rebuild).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outgoing_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_mail'))
    )
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_mail_sent_at_next_attempt_at', ['sent_at', 'next_attempt_at'], unique=False)

    op.add_column('bookings', sa.Column('request_key', sa.String(length=64), nullable=True))
    op.create_index('uq_bookings_request_key', 'bookings', ['request_key'], unique=True)


def downgrade():
    op.drop_index('uq_bookings_request_key', table_name='bookings')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('request_key')
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_mail_sent_at_next_attempt_at')
    op.drop_table('outgoing_mail')
