"""offers sessions requests

Revision ID: 0002
Revises: 0001


"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed.
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('booking_mode', sa.String(length=10), nullable=False),
    sa.Column('price_credits', sa.Integer(), nullable=False),
    sa.Column('price_unit', sa.String(length=10), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('cancellation_days', sa.Integer(), nullable=False),
    sa.Column('location_name', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('easting', sa.Integer(), nullable=True),
    sa.Column('northing', sa.Integer(), nullable=True),
    sa.Column('contact_user_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assured_on', sa.Date(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("booking_mode IN ('sessions','bespoke')", name=op.f('ck_offers_booking_mode_known')),
    sa.CheckConstraint("price_unit IN ('place','day')", name=op.f('ck_offers_price_unit_known')),
    sa.CheckConstraint("status IN ('draft','published','paused','archived')", name=op.f('ck_offers_status_known')),
    sa.CheckConstraint('cancellation_days >= 0', name=op.f('ck_offers_cancellation_days_non_negative')),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_offers_capacity_positive')),
    sa.CheckConstraint('price_credits >= 0', name=op.f('ck_offers_price_non_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_offers_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['contact_user_id'], ['users.id'], name=op.f('fk_offers_contact_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_offers_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_offers_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_status'), ['status'], unique=False)
        batch_op.create_index('ix_offers_status_category_id', ['status', 'category_id'], unique=False)

    op.create_table('support_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('visibility', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('met_by_offer','met_elsewhere','no_longer_needed','not_met')", name=op.f('ck_support_requests_outcome_known')),
    sa.CheckConstraint("status IN ('draft','published','closed')", name=op.f('ck_support_requests_status_known')),
    sa.CheckConstraint("urgency IN ('low','medium','high')", name=op.f('ck_support_requests_urgency_known')),
    sa.CheckConstraint("visibility IN ('partnership','coordinators')", name=op.f('ck_support_requests_visibility_known')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_support_requests_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_support_requests_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_support_requests_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_support_requests_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_requests'))
    )
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_requests_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_requests_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_support_requests_status_visibility', ['status', 'visibility'], unique=False)

    op.create_table('brokerages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('coordinator_id', sa.Integer(), nullable=True),
    sa.Column('provider_organisation_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('provider_organisation_id IS NOT NULL OR offer_id IS NOT NULL', name=op.f('ck_brokerages_links_something')),
    sa.ForeignKeyConstraint(['coordinator_id'], ['users.id'], name=op.f('fk_brokerages_coordinator_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_brokerages_offer_id_offers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_organisation_id'], ['organisations.id'], name=op.f('fk_brokerages_provider_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'], name=op.f('fk_brokerages_request_id_support_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brokerages'))
    )
    with op.batch_alter_table('brokerages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brokerages_request_id'), ['request_id'], unique=False)

    op.create_table('offer_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('joining_link', sa.String(length=500), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('series_key', sa.String(length=36), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_offer_sessions_ends_after_start')),
    sa.CheckConstraint('places > 0', name=op.f('ck_offer_sessions_places_positive')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_sessions_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_sessions'))
    )
    with op.batch_alter_table('offer_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_offer_sessions_offer_id_starts_at', ['offer_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_sessions_series_key'), ['series_key'], unique=False)
        batch_op.create_index('ix_offer_sessions_starts_at', ['starts_at'], unique=False)

    op.create_table('offer_terms',
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_terms_offer_id_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['facet_terms.id'], name=op.f('fk_offer_terms_term_id_facet_terms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offer_id', 'term_id', name=op.f('pk_offer_terms'))
    )
    with op.batch_alter_table('offer_terms', schema=None) as batch_op:
        batch_op.create_index('ix_offer_terms_term_id_offer_id', ['term_id', 'offer_id'], unique=False)

    op.create_table('request_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_request_responses_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_request_responses_offer_id_offers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_request_responses_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'], name=op.f('fk_request_responses_request_id_support_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_responses'))
    )
    with op.batch_alter_table('request_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_responses_request_id'), ['request_id'], unique=False)

    op.create_table('request_terms',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['support_requests.id'], name=op.f('fk_request_terms_request_id_support_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['facet_terms.id'], name=op.f('fk_request_terms_term_id_facet_terms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'term_id', name=op.f('pk_request_terms'))
    )


def downgrade():
    # Reviewed.
    op.drop_table('request_terms')
    with op.batch_alter_table('request_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_responses_request_id'))

    op.drop_table('request_responses')
    with op.batch_alter_table('offer_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_offer_terms_term_id_offer_id')

    op.drop_table('offer_terms')
    with op.batch_alter_table('offer_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_offer_sessions_starts_at')
        batch_op.drop_index(batch_op.f('ix_offer_sessions_series_key'))
        batch_op.drop_index('ix_offer_sessions_offer_id_starts_at')

    op.drop_table('offer_sessions')
    with op.batch_alter_table('brokerages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brokerages_request_id'))

    op.drop_table('brokerages')
    with op.batch_alter_table('support_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_support_requests_status_visibility')
        batch_op.drop_index(batch_op.f('ix_support_requests_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_support_requests_category_id'))

    op.drop_table('support_requests')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_status_category_id')
        batch_op.drop_index(batch_op.f('ix_offers_status'))
        batch_op.drop_index(batch_op.f('ix_offers_published_at'))
        batch_op.drop_index(batch_op.f('ix_offers_organisation_id'))

    op.drop_table('offers')
