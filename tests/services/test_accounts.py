"""Account rules tested without HTTP: sign-in and throttling, reset tokens, invitations, roles, mail."""
import hashlib
import os
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Invitation, LoginAttempt, PasswordResetToken, User
from app.models.base import utcnow
from app.services import accounts, mail, passwords
from app.services.errors import Conflict, Invalid, NotAllowed, NotFound
from tests.support.accounts import PASSWORD, count, outbox

NEW_PASSWORD = "lantern orchard pebble"


# --- passwords ---------------------------------------------------------------------------


def test_hashes_are_argon2id(app):
    hashed = passwords.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, PASSWORD)
    assert not passwords.verify_password(hashed, PASSWORD + "x")


def test_common_password_list_is_shipped_with_a_source_header():
    with open(passwords.COMMON_PASSWORDS_FILE, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    header = [line for line in lines if line.startswith("#")]
    assert any("zxcvbn" in line for line in header) and any("MIT" in line for line in header)
    words = [line for line in lines if line and not line.startswith("#")]
    assert len(words) >= 10_000
    assert all(word == word.lower() for word in words)
    assert "waymark-demo" not in words  # the documented demo password must stay usable


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "Password1234", "qwerty123456", "123456789012"])
def test_common_long_passwords_are_refused(app, password):
    assert "too common" in passwords.password_problem(password)


def test_a_good_passphrase_passes_the_policy(app):
    assert passwords.password_problem(PASSWORD) is None


# --- sign in -----------------------------------------------------------------------------


def test_sign_in_success_records_attempt_last_login_and_audit(app, make_user):
    user = make_user(password=PASSWORD)
    result = accounts.sign_in(user.email.upper(), PASSWORD, "10.0.0.1")
    db.session.commit()
    assert result.ok and result.user.id == user.id
    attempt = db.session.scalar(select(LoginAttempt))
    assert (attempt.email, attempt.ip, attempt.success) == (user.email, "10.0.0.1", True)
    assert db.session.get(User, user.id).last_login_at is not None
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "user.sign_in")).actor_id == user.id


def test_wrong_password_and_unknown_email_give_the_same_answer(app, make_user, monkeypatch):
    user = make_user(password=PASSWORD)
    wrong = accounts.sign_in(user.email, "not the password", "10.0.0.1")
    # An unknown address still costs a hash, so it takes as long as a known one.
    calls = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    unknown = accounts.sign_in("nobody@example.test", PASSWORD, "10.0.0.1")
    db.session.commit()
    assert not wrong.ok and not unknown.ok
    assert wrong.problem == unknown.problem == accounts.WRONG_CREDENTIALS
    assert calls == [None]
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False))) == 2


def test_inactive_user_cannot_sign_in(app, make_user):
    user = make_user(password=PASSWORD, active=False)
    result = accounts.sign_in(user.email, PASSWORD, "10.0.0.1")
    assert not result.ok and "switched off" in result.problem


def test_old_hash_parameters_are_upgraded_on_sign_in(app, make_user):
    user = make_user()
    old_hash = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    user.password_hash = old_hash
    db.session.commit()
    assert accounts.sign_in(user.email, PASSWORD, "10.0.0.1").ok
    db.session.commit()
    new_hash = db.session.get(User, user.id).password_hash
    assert new_hash != old_hash and new_hash.startswith("$argon2id$")
    assert passwords.verify_password(new_hash, PASSWORD)


class TestThrottling:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_MAX_FAILURES_PER_ACCOUNT": 3, "LOGIN_MAX_FAILURES_PER_IP": 5, "LOGIN_WINDOW_MINUTES": 15}

    def test_account_is_soft_locked_then_freed_when_the_window_passes(self, app, make_user):
        user = make_user(password=PASSWORD)
        for _ in range(3):
            assert not accounts.sign_in(user.email, "wrong password!", "10.0.0.1").ok
        db.session.commit()
        with pytest.raises(accounts.TooManyAttempts) as raised:
            accounts.sign_in(user.email, PASSWORD, "10.0.0.2")  # another address, right password
        assert raised.value.status_code == 429
        assert "Too many failed sign-in attempts. Try again in about 15 minutes." == raised.value.message
        # Throttled attempts are not recorded, so hammering does not extend the lock.
        assert count(LoginAttempt) == 3
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.at -= timedelta(minutes=16)
        db.session.commit()
        assert accounts.sign_in(user.email, PASSWORD, "10.0.0.2").ok

    def test_wait_counts_down_as_failures_age(self, app, make_user):
        user = make_user(password=PASSWORD)
        now = utcnow()
        for minutes_ago in (10, 5, 1):
            db.session.add(LoginAttempt(email=user.email, ip="10.0.0.1", at=now - timedelta(minutes=minutes_ago), success=False))
        db.session.commit()
        assert accounts.throttle_wait(user.email, "10.0.0.9", now) == 5

    def test_many_accounts_from_one_address_are_throttled(self, app):
        for n in range(5):
            accounts.sign_in(f"guess{n}@example.test", "wrong password!", "10.0.0.66")
        db.session.commit()
        with pytest.raises(accounts.TooManyAttempts):
            accounts.sign_in("another@example.test", "wrong password!", "10.0.0.66")
        assert not accounts.sign_in("another@example.test", "wrong password!", "10.0.0.67").ok

    def test_a_successful_sign_in_clears_the_account_count(self, app, make_user):
        user = make_user(password=PASSWORD)
        for _ in range(2):
            accounts.sign_in(user.email, "wrong password!", "10.0.0.1")
        assert accounts.sign_in(user.email, PASSWORD, "10.0.0.1").ok
        for _ in range(2):
            accounts.sign_in(user.email, "wrong password!", "10.0.0.2")
        db.session.commit()
        assert accounts.sign_in(user.email, PASSWORD, "10.0.0.3").ok


# --- password reset ----------------------------------------------------------------------


def test_reset_for_unknown_or_inactive_email_writes_nothing(app, make_user):
    inactive = make_user(active=False)
    assert accounts.request_password_reset("nobody@example.test") is None
    assert accounts.request_password_reset(inactive.email) is None
    db.session.commit()
    assert count(PasswordResetToken) == 0


def test_reset_token_is_stored_only_as_its_hash_and_works_once(app, make_user):
    user = make_user(password=PASSWORD)
    version = user.session_version
    found, token = accounts.request_password_reset(user.email)
    db.session.commit()
    stored = db.session.scalar(select(PasswordResetToken))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert stored.expires_at - stored.created_at == timedelta(minutes=app.config["RESET_TOKEN_MINUTES"])

    accounts.reset_password(token, NEW_PASSWORD)
    db.session.commit()
    user = db.session.get(User, user.id)
    assert passwords.verify_password(user.password_hash, NEW_PASSWORD)
    assert user.session_version == version + 1
    with pytest.raises(accounts.LinkInvalid):
        accounts.reset_password(token, "another fine passphrase")


def test_reset_invalidates_the_other_tokens(app, make_user):
    user = make_user(password=PASSWORD)
    _, first = accounts.request_password_reset(user.email)
    _, second = accounts.request_password_reset(user.email)
    db.session.commit()
    accounts.reset_password(second, NEW_PASSWORD)
    db.session.commit()
    with pytest.raises(accounts.LinkInvalid):
        accounts.check_reset_token(first)


def test_expired_or_unknown_reset_token_is_refused(app, make_user):
    user = make_user(password=PASSWORD)
    _, token = accounts.request_password_reset(user.email)
    db.session.commit()
    later = utcnow() + timedelta(minutes=app.config["RESET_TOKEN_MINUTES"] + 1)
    with pytest.raises(accounts.LinkInvalid):
        accounts.reset_password(token, NEW_PASSWORD, now=later)
    for bad in ("", "not-a-token", "x" * 500):
        with pytest.raises(accounts.LinkInvalid):
            accounts.check_reset_token(bad)


def test_weak_new_password_is_refused_and_the_token_stays_usable(app, make_user):
    user = make_user(password=PASSWORD)
    _, token = accounts.request_password_reset(user.email)
    db.session.commit()
    with pytest.raises(Invalid) as raised:
        accounts.reset_password(token, "password1234")
    assert raised.value.field == "password"
    db.session.rollback()
    assert db.session.scalar(select(PasswordResetToken)).used_at is None
    assert accounts.check_reset_token(token).id == user.id


def test_reset_requests_are_capped_per_account(app, make_user):
    user = make_user(password=PASSWORD)
    results = [accounts.request_password_reset(user.email) for _ in range(accounts.MAX_OPEN_RESET_TOKENS + 2)]
    db.session.commit()
    assert sum(r is not None for r in results) == accounts.MAX_OPEN_RESET_TOKENS
    assert count(PasswordResetToken) == accounts.MAX_OPEN_RESET_TOKENS


# --- invitations -------------------------------------------------------------------------

# (inviter role, invited role, same organisation as the inviter?) -> allowed
INVITE_MATRIX = [
    ("admin", "admin", False, True),
    ("admin", "coordinator", False, True),
    ("admin", "teacher", False, True),
    ("coordinator", "coordinator", False, True),
    ("coordinator", "school_lead", False, True),
    ("coordinator", "admin", False, False),
    ("school_lead", "teacher", True, True),
    ("school_lead", "governor", True, True),
    ("school_lead", "school_lead", True, True),
    ("school_lead", "teacher", False, False),
    ("school_lead", "coordinator", True, False),
    ("school_lead", "admin", True, False),
    ("teacher", "teacher", True, False),
    ("governor", "teacher", True, False),
]


@pytest.mark.parametrize("inviter_role, role, same_org, allowed", INVITE_MATRIX)
def test_who_may_invite_whom(app, make_user, make_school, inviter_role, role, same_org, allowed):
    inviter = make_user(role=inviter_role)
    target_org = inviter.organisation if same_org and inviter.organisation else make_school()
    before = (count(Invitation), count(AuditLog))
    if allowed:
        invitation, token = accounts.create_invitation(inviter, "new.person@example.test", "New Person", role, target_org.id)
        db.session.commit()
        assert invitation.role == role and invitation.organisation_id == target_org.id
        assert invitation.invited_by_id == inviter.id
        assert count(Invitation) == before[0] + 1
    else:
        with pytest.raises(NotAllowed):
            accounts.create_invitation(inviter, "new.person@example.test", "New Person", role, target_org.id)
        db.session.rollback()
        assert (count(Invitation), count(AuditLog)) == before


def test_coordinators_and_admins_may_be_invited_without_an_organisation(app, make_user):
    admin = make_user(role="admin")
    invitation, _ = accounts.create_invitation(admin, "coord@example.test", "", "coordinator", None)
    assert invitation.organisation_id is None
    with pytest.raises(Invalid) as raised:
        accounts.create_invitation(admin, "teacher@example.test", "", "teacher", None)
    assert raised.value.field == "organisation_id"


def test_school_lead_invites_to_their_own_school_by_default(app, make_user):
    lead = make_user(role="school_lead")
    invitation, _ = accounts.create_invitation(lead, "staff@example.test", "", "teacher", None)
    assert invitation.organisation_id == lead.organisation_id


@pytest.mark.parametrize(
    "email, error, field",
    [
        ("not-an-email", Invalid, "email"),
        ("", Invalid, "email"),
        ("two@@example.test", Invalid, "email"),
    ],
)
def test_invalid_email_is_refused_and_nothing_written(app, make_user, email, error, field):
    lead = make_user(role="school_lead")
    with pytest.raises(error) as raised:
        accounts.create_invitation(lead, email, "", "teacher", None)
    assert raised.value.field == field
    db.session.rollback()
    assert count(Invitation) == 0


def test_existing_user_and_pending_invitation_are_refused(app, make_user):
    lead = make_user(role="school_lead")
    existing = make_user(email="already@example.test")
    with pytest.raises(Conflict) as raised:
        accounts.create_invitation(lead, existing.email.upper(), "", "teacher", None)
    assert "already an account" in raised.value.message
    db.session.rollback()

    accounts.create_invitation(lead, "Fresh@Example.test", "", "teacher", None)
    db.session.commit()
    with pytest.raises(Conflict) as raised:
        accounts.create_invitation(lead, "fresh@example.test", "", "governor", None)
    assert "already been invited" in raised.value.message
    db.session.rollback()
    assert count(Invitation) == 1
    # Once the first invitation has expired, a new one may go out.
    later = utcnow() + timedelta(days=app.config["INVITATION_DAYS"] + 1)
    accounts.create_invitation(lead, "fresh@example.test", "", "governor", None, now=later)


def test_unknown_organisation_is_refused(app, make_user):
    admin = make_user(role="admin")
    with pytest.raises(Invalid) as raised:
        accounts.create_invitation(admin, "x@example.test", "", "teacher", 987654)
    assert raised.value.field == "organisation_id"


def test_accepting_creates_the_user_once(app, make_user):
    lead = make_user(role="school_lead")
    invitation, token = accounts.create_invitation(lead, "joiner@example.test", "Jo Iner", "governor", None)
    db.session.commit()
    stored = db.session.get(Invitation, invitation.id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.expires_at - stored.created_at == timedelta(days=app.config["INVITATION_DAYS"])

    user = accounts.accept_invitation(token, "Jo Iner", PASSWORD)
    db.session.commit()
    assert (user.email, user.role, user.organisation_id) == ("joiner@example.test", "governor", lead.organisation_id)
    assert user.password_hash.startswith("$argon2id$")
    assert db.session.get(Invitation, invitation.id).accepted_at is not None

    users_before = count(User)
    with pytest.raises(accounts.LinkInvalid):
        accounts.accept_invitation(token, "Jo Iner", PASSWORD)
    db.session.rollback()
    assert count(User) == users_before


def test_expired_revoked_and_unknown_invitations_are_refused(app, make_user):
    lead = make_user(role="school_lead")
    _, expired = accounts.create_invitation(lead, "late@example.test", "", "teacher", None)
    revoked_invitation, revoked = accounts.create_invitation(lead, "gone@example.test", "", "teacher", None)
    accounts.revoke_invitation(lead, revoked_invitation.id)
    db.session.commit()
    users_before = count(User)
    later = utcnow() + timedelta(days=app.config["INVITATION_DAYS"], minutes=1)
    with pytest.raises(accounts.LinkInvalid):
        accounts.accept_invitation(expired, "Late", PASSWORD, now=later)
    for token in (revoked, "unknown-token"):
        with pytest.raises(accounts.LinkInvalid):
            accounts.accept_invitation(token, "Someone", PASSWORD)
    db.session.rollback()
    assert count(User) == users_before


def test_weak_password_on_accept_writes_nothing(app, make_user):
    lead = make_user(role="school_lead")
    _, token = accounts.create_invitation(lead, "weak@example.test", "", "teacher", None)
    db.session.commit()
    users_before = count(User)
    with pytest.raises(Invalid):
        accounts.accept_invitation(token, "Weak", "qwertyuiop123")
    db.session.rollback()
    assert count(User) == users_before
    assert accounts.invitation_for_token(token).accepted_at is None


def test_school_lead_cannot_revoke_another_schools_invitation(app, make_user):
    lead = make_user(role="school_lead")
    other_lead = make_user(role="school_lead")
    invitation, _ = accounts.create_invitation(lead, "a@example.test", "", "teacher", None)
    db.session.commit()
    with pytest.raises(NotAllowed):
        accounts.revoke_invitation(other_lead, invitation.id)
    with pytest.raises(NotFound):
        accounts.revoke_invitation(lead, 999999)
    assert [i.id for i in accounts.pending_invitations(lead)] == [invitation.id]
    assert accounts.pending_invitations(other_lead) == []


# --- your account ------------------------------------------------------------------------


def test_change_password_checks_the_current_one_and_ends_sessions(app, make_user):
    user = make_user(password=PASSWORD)
    version = user.session_version
    with pytest.raises(Invalid) as raised:
        accounts.change_password(user, "wrong current", NEW_PASSWORD)
    assert raised.value.field == "current_password"
    with pytest.raises(Invalid) as raised:
        accounts.change_password(user, PASSWORD, "password1234")
    assert raised.value.field == "new_password"
    db.session.rollback()
    accounts.change_password(user, PASSWORD, NEW_PASSWORD)
    db.session.commit()
    user = db.session.get(User, user.id)
    assert passwords.verify_password(user.password_hash, NEW_PASSWORD)
    assert user.session_version == version + 1


# --- roles and activation ----------------------------------------------------------------


def test_coordinator_changes_a_teachers_role(app, make_user):
    coordinator = make_user(role="coordinator")
    teacher = make_user(role="teacher")
    version = teacher.session_version
    accounts.change_role(coordinator, teacher.id, "school_lead")
    db.session.commit()
    teacher = db.session.get(User, teacher.id)
    assert teacher.role == "school_lead" and teacher.session_version == version + 1
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.role_change"))
    assert entry.actor_id == coordinator.id and entry.detail == {"previous": "teacher", "role": "school_lead"}


def test_only_admins_grant_or_change_admin(app, make_user):
    coordinator = make_user(role="coordinator")
    admin = make_user(role="admin")
    teacher = make_user(role="teacher")
    with pytest.raises(NotAllowed):
        accounts.change_role(coordinator, teacher.id, "admin")
    with pytest.raises(NotAllowed):
        accounts.change_role(coordinator, admin.id, "coordinator")
    with pytest.raises(NotAllowed):
        accounts.set_active(coordinator, admin.id, False)
    db.session.rollback()
    accounts.change_role(admin, teacher.id, "admin")
    db.session.commit()
    assert db.session.get(User, teacher.id).role == "admin"


def test_nobody_demotes_or_deactivates_themself(app, make_user):
    admin = make_user(role="admin")
    with pytest.raises(NotAllowed):
        accounts.change_role(admin, admin.id, "teacher")
    with pytest.raises(NotAllowed):
        accounts.set_active(admin, admin.id, False)


def test_school_roles_need_an_organisation(app, make_user):
    admin = make_user(role="admin")
    coordinator = make_user(role="coordinator")  # no organisation
    with pytest.raises(Invalid):
        accounts.change_role(admin, coordinator.id, "teacher")


def test_deactivation_ends_sessions_and_blocks_sign_in(app, make_user):
    coordinator = make_user(role="coordinator")
    teacher = make_user(password=PASSWORD)
    version = teacher.session_version
    accounts.set_active(coordinator, teacher.id, False)
    db.session.commit()
    assert db.session.get(User, teacher.id).session_version == version + 1
    assert not accounts.sign_in(teacher.email, PASSWORD, "10.0.0.1").ok


def test_user_list_filters_and_pages(app, make_user, make_school):
    school = make_school(name="Oakfield Primary")
    for n in range(3):
        make_user(role="teacher", organisation=school, name=f"Oak Teacher {n}")
    make_user(role="governor", organisation=school, name="Oak Governor")
    make_user(role="teacher", name="Elsewhere Teacher")
    assert accounts.list_users(role="teacher", organisation="oakfield").total == 3
    assert accounts.list_users(q="governor").total == 1
    assert accounts.list_users(q="100%_").total == 0  # LIKE wildcards are literal
    page = accounts.list_users(organisation="Oakfield", per_page=2, page=2)
    assert (page.total, page.pages, page.page, len(page.items)) == (4, 2, 2, 2)
    assert accounts.list_users(organisation="Oakfield", per_page=2, page=99).page == 2
    with pytest.raises(Invalid):
        accounts.list_users(role="emperor")


# --- mail --------------------------------------------------------------------------------


def test_mail_without_a_server_lands_in_the_outbox(app):
    path = mail.send_mail("someone@example.test", "Hello there", "Line one\nhttp://localhost/x\n")
    assert os.path.dirname(path) == app.config["OUTBOX_DIR"] and path.endswith(".eml")
    [message] = outbox(app)
    assert message["To"] == "someone@example.test"
    assert message["Subject"] == "Hello there"
    assert message["Message-ID"] and message["Date"]
    assert "http://localhost/x" in message.get_content()


def test_two_messages_get_two_files(app):
    mail.send_mail("a@example.test", "One", "1")
    mail.send_mail("b@example.test", "Two", "2")
    assert [m["Subject"] for m in outbox(app)] in (["One", "Two"], ["Two", "One"])
    assert not any(name.endswith(".part") for name in os.listdir(app.config["OUTBOX_DIR"]))


class FakeSMTP:
    sent = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port, self.calls = host, port, []
        FakeSMTP.sent.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, username, password):
        self.calls.append(("login", username, password))

    def send_message(self, message):
        self.calls.append(("send", message["To"], message["Subject"]))


def test_mail_with_a_server_uses_smtp_with_starttls_and_login(app, monkeypatch):
    FakeSMTP.sent = []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_SERVER="smtp.example.test", MAIL_PORT=587, MAIL_USE_TLS=True, MAIL_USERNAME="u", MAIL_PASSWORD="p")
    assert mail.send_mail("to@example.test", "Subject", "Body") is None
    [smtp] = FakeSMTP.sent
    assert (smtp.host, smtp.port) == ("smtp.example.test", 587)
    assert smtp.calls == ["starttls", ("login", "u", "p"), ("send", "to@example.test", "Subject")]
    assert not os.path.exists(app.config["OUTBOX_DIR"])


def test_links_outside_a_request_use_server_name_for_mail(app):
    app.config["SERVER_NAME_FOR_MAIL"] = "https://waymark.example.org"
    assert mail.external_url("auth.reset_password", token="abc") == "https://waymark.example.org/auth/reset/abc"
    with app.test_request_context(base_url="http://school.example.net/"):
        assert mail.external_url("auth.reset_password", token="abc") == "http://school.example.net/auth/reset/abc"
