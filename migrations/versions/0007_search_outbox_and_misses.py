"""search outbox and misses

Revision ID: 0007
Revises: 0006
Reviewed: new tables only.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.CheckConstraint("kind IN ('offer','organisation','expert','request')", name=op.f('ck_search_outbox_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_search_outbox_kind_object_id', ['kind', 'object_id'], unique=False)

    op.create_table('search_misses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_search_misses_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_search_misses_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_search_misses_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_misses'))
    )
    with op.batch_alter_table('search_misses', schema=None) as batch_op:
        batch_op.create_index('ix_search_misses_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_misses_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_misses_organisation_id'), ['organisation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('search_misses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_misses_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_search_misses_category_id'))
        batch_op.drop_index('ix_search_misses_at')

    op.drop_table('search_misses')
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_search_outbox_kind_object_id')

    op.drop_table('search_outbox')
