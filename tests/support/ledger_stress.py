"""A worker for the multi-process ledger stress test: random holds, releases and settlements."""
import random

from sqlalchemy.exc import OperationalError


def run_worker(database_uri: str, worker: int, organisation_ids: list[int], operations: int, seed: int) -> dict:
    from app import create_app
    from app.extensions import db, write_transaction
    from app.services import ledger
    from app.services.errors import DomainError

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_uri})
    rng = random.Random(seed)
    outcome = {"committed": 0, "refused": 0, "locked": 0, "other": 0}
    with app.app_context():
        for i in range(operations):
            payer, provider = rng.sample(organisation_ids, 2)
            amount = rng.randint(1, 6)
            booking = rng.randint(1, 40)
            try:
                with write_transaction():
                    hold = ledger.hold(None, organisation_id=payer, amount=amount, booking_id=booking,
                                       key=f"w{worker}-{i}-hold")
                    if rng.random() < 0.5:
                        ledger.settle(None, organisation_id=payer, provider_id=provider, amount=hold.amount,
                                      booking_id=booking, key=f"w{worker}-{i}-settle")
                    else:
                        ledger.release(None, organisation_id=payer, amount=hold.amount, booking_id=booking,
                                       key=f"w{worker}-{i}-release")
                    # Retrying the same hold must change nothing.
                    ledger.hold(None, organisation_id=payer, amount=amount, booking_id=booking, key=f"w{worker}-{i}-hold")
                    db.session.commit()
                outcome["committed"] += 1
            except DomainError:
                db.session.rollback()
                outcome["refused"] += 1
            except OperationalError as error:
                db.session.rollback()
                message = str(error).lower()
                outcome["locked" if "locked" in message or "deadlock" in message else "other"] += 1
                outcome.setdefault("messages", []).append(str(error)[:300])
        db.engine.dispose()
    return outcome
