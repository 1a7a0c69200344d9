"""feedback moderation follow-ups quality scores

Revision ID: 0006
Revises: 0005

Reviewed: new tables only.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quality_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=8), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('quality_mean', sa.Float(), nullable=True),
    sa.Column('impact_mean', sa.Float(), nullable=True),
    sa.Column('objectives_mean', sa.Float(), nullable=True),
    sa.Column('recommend_share', sa.Float(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("subject IN ('offer','provider')", name=op.f('ck_quality_scores_subject_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_scores'))
    )
    with op.batch_alter_table('quality_scores', schema=None) as batch_op:
        batch_op.create_index('uq_quality_scores_subject_subject_id', ['subject', 'subject_id'], unique=True)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('objectives_met', sa.String(length=6), nullable=False),
    sa.Column('quality', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('would_recommend', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('report_reason', sa.Text(), nullable=True),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("objectives_met IN ('yes','partly','no')", name=op.f('ck_feedback_objectives_met_known')),
    sa.CheckConstraint('impact BETWEEN 1 AND 5', name=op.f('ck_feedback_impact_range')),
    sa.CheckConstraint('quality BETWEEN 1 AND 5', name=op.f('ck_feedback_quality_range')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_feedback_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_feedback_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_feedback_hidden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_feedback_offer_id_offers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_feedback_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['provider_id'], ['organisations.id'], name=op.f('fk_feedback_provider_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['replied_by_id'], ['users.id'], name=op.f('fk_feedback_replied_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_feedback_reported_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_feedback_booking_id'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_offer_id_hidden_at', ['offer_id', 'hidden_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_feedback_provider_id_hidden_at', ['provider_id', 'hidden_at'], unique=False)

    op.create_table('impact_follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('what_changed', sa.Text(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('impact BETWEEN 1 AND 5', name=op.f('ck_impact_follow_ups_impact_range')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_impact_follow_ups_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_impact_follow_ups_booking_id_bookings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_impact_follow_ups_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_follow_ups')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_impact_follow_ups_booking_id'))
    )
    op.create_table('feedback_moderation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=6), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("action IN ('hide','unhide')", name=op.f('ck_feedback_moderation_action_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_feedback_moderation_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], name=op.f('fk_feedback_moderation_feedback_id_feedback'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_moderation'))
    )
    with op.batch_alter_table('feedback_moderation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_moderation_feedback_id'), ['feedback_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_moderation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_moderation_feedback_id'))
    op.drop_table('feedback_moderation')
    op.drop_table('impact_follow_ups')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_provider_id_hidden_at')
        batch_op.drop_index(batch_op.f('ix_feedback_organisation_id'))
        batch_op.drop_index('ix_feedback_offer_id_hidden_at')
    op.drop_table('feedback')
    with op.batch_alter_table('quality_scores', schema=None) as batch_op:
        batch_op.drop_index('uq_quality_scores_subject_subject_id')
    op.drop_table('quality_scores')
