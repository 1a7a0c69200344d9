"""The credits ledger: accounts, transfers and their append-only entries.

Every transfer moves a positive whole number of credits from one account to another and
writes exactly two entries (-amount, +amount), so the sum over all entries, and over all
balances, is always zero. Credits enter the scheme only from the `issuance` account, whose
balance is therefore minus the credits in circulation. Entries and transfers are never
updated or deleted: database triggers refuse it on both engines; mistakes are put right by
a reversal, which is itself a transfer.
"""
from datetime import datetime

from sqlalchemy import DDL, CheckConstraint, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

TRANSFER_KINDS = {
    "allocation": "Yearly allocation",
    "purchase": "Purchase",
    "grant": "Seed credits",
    "hold": "Held for a booking",
    "release": "Hold released",
    "settle": "Paid for delivered support",
    "forfeit": "Forfeited",
    "adjustment": "Adjustment",
    "reversal": "Reversal",
}
ISSUANCE = "issuance"
ESCROW = "escrow"


class Account(db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('organisation','issuance','escrow')", name="kind_known"),
        # Defence in depth: the guarded UPDATE in the ledger service is the real check.
        CheckConstraint("overdraft_limit IS NULL OR balance >= -overdraft_limit", name="within_overdraft"),
        CheckConstraint("overdraft_limit IS NULL OR overdraft_limit >= 0", name="overdraft_non_negative"),
        CheckConstraint("(kind = 'organisation') = (organisation_id IS NOT NULL)", name="owner_matches_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "issuance", "escrow" or "org-<organisation id>": unique, so concurrent creation cannot duplicate.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), unique=True)
    # A cache of the sum of this account's entries, changed in the same transaction.
    balance: Mapped[int] = mapped_column(Integer, default=0)
    # How far below zero the balance may go; NULL means without limit (issuance only).
    overdraft_limit: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped["Organisation | None"] = relationship()  # noqa: F821


class Transfer(db.Model):
    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
        CheckConstraint(
            "kind IN ('allocation','purchase','grant','hold','release','settle','forfeit','adjustment','reversal')",
            name="kind_known",
        ),
        Index("ix_ledger_transfers_escrow_owner_id", "escrow_owner_id"),
        Index("ix_ledger_transfers_booking_id", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    to_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(Integer)
    # The same key twice is one transfer; the same key with other content is refused.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    invoice_reference: Mapped[str | None] = mapped_column(String(100))
    # Bookings are defined later; the id is recorded for holds, releases and settlements.
    booking_id: Mapped[int | None] = mapped_column(Integer)
    # Whose credits sit in escrow for hold/release/settle/forfeit: "held" per school is
    # the sum of its holds less what left escrow on its behalf.
    escrow_owner_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transfers.id", ondelete="RESTRICT"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    from_account: Mapped[Account] = relationship(foreign_keys=[from_account_id])
    to_account: Mapped[Account] = relationship(foreign_keys=[to_account_id])
    actor: Mapped["User | None"] = relationship()  # noqa: F821
    entries: Mapped[list["Entry"]] = relationship(back_populates="transfer", order_by="Entry.id")
    reverses: Mapped["Transfer | None"] = relationship(remote_side=[id], foreign_keys=[reverses_id])

    @property
    def kind_label(self) -> str:
        return TRANSFER_KINDS.get(self.kind, self.kind)


class Entry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("ledger_transfers.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    transfer: Mapped[Transfer] = relationship(back_populates="entries")
    account: Mapped[Account] = relationship()


# Append-only, enforced by the database itself. The same statements are in the migration.
APPEND_ONLY_TABLES = ("ledger_entries", "ledger_transfers")

SQLITE_APPEND_ONLY = [
    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    for table in APPEND_ONLY_TABLES
    for verb in ("UPDATE", "DELETE")
]
POSTGRES_APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END $$",
] + [
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
    for table in APPEND_ONLY_TABLES
]

# ledger_entries is created after ledger_transfers (it refers to it), so both exist by then.
for _sql in SQLITE_APPEND_ONLY:
    event.listen(Entry.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in POSTGRES_APPEND_ONLY:
    event.listen(Entry.__table__, "after_create", DDL(_sql).execute_if(dialect="postgresql"))
