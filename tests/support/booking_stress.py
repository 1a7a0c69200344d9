"""A worker for the multi-process booking stress test: random requests, confirmations, cancellations."""
import random

from sqlalchemy.exc import OperationalError


def run_worker(database_uri: str, worker: int, lead_ids: list[int], session_ids: list[int], operations: int, seed: int) -> dict:
    from app import create_app
    from app.extensions import db, write_transaction
    from app.models import Booking, User
    from app.services import bookings
    from app.services.errors import DomainError

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_uri})
    rng = random.Random(seed)
    outcome = {"confirmed": 0, "refused": 0, "cancelled": 0, "locked": 0, "other": 0}
    with app.app_context():
        for _ in range(operations):
            try:
                with write_transaction():
                    # Read inside the writing transaction: a deferred read first would make
                    # SQLite refuse the later write at once (the classic "database is locked").
                    lead = db.session.get(User, rng.choice(lead_ids))
                    if rng.random() < 0.25:
                        mine = db.session.query(Booking.id).filter_by(organisation_id=lead.organisation_id, status="confirmed").all()
                        if mine:
                            bookings.cancel(lead, rng.choice(mine)[0], "stress")
                            outcome["cancelled"] += 1
                    else:
                        booking = bookings.request_places(lead, rng.choice(session_ids), rng.randint(1, 3))
                        bookings.confirm(lead, booking.id)
                        bookings.confirm(lead, booking.id)  # the double click
                        outcome["confirmed"] += 1
                    db.session.commit()
            except DomainError:
                db.session.rollback()
                outcome["refused"] += 1
            except OperationalError as error:
                db.session.rollback()
                message = str(error).lower()
                outcome["locked" if "locked" in message or "deadlock" in message else "other"] += 1
                outcome.setdefault("messages", []).append(str(error)[:600])
            finally:
                db.session.expire_all()
        db.engine.dispose()
    return outcome
