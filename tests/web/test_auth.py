"""Signing in and out, throttling, open redirects, session revocation, reset and invitation links."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invitation, LoginAttempt, PasswordResetToken, User
from app.services import accounts, passwords
from tests.support.accounts import PASSWORD, count, outbox, sign_in

NEW_PASSWORD = "lantern orchard pebble"


def session_cookie(client):
    return client.get_cookie("session").value


def restore_cookie(client, value):
    client.set_cookie("session", value)


def is_sent_to_sign_in(response) -> bool:
    return response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]


# --- the sign-in page --------------------------------------------------------------------


def test_sign_in_page_has_labelled_fields_with_autocomplete(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert page.count("<h1") == 1
    assert '<label for="email">' in page and '<label for="password">' in page
    assert 'autocomplete="email"' in page and 'autocomplete="current-password"' in page
    assert 'type="email"' in page and 'type="password"' in page
    assert "/auth/reset" in page


def test_sign_in_success_signs_in_and_goes_home(client, make_user):
    user = make_user(password=PASSWORD, name="Ada Lovelace")
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code in (302, 303) and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Signed in as Ada Lovelace." in home
    assert client.get("/account/").status_code == 200
    assert db.session.get(User, user.id).last_login_at is not None


def test_sign_in_with_a_wrong_password_says_so_and_stays_signed_out(client, make_user):
    user = make_user(password=PASSWORD)
    response = sign_in(client, user.email, "not the password")
    assert response.status_code == 200
    assert "The email address or password is not right." in response.get_data(as_text=True)
    assert is_sent_to_sign_in(client.get("/account/"))


def test_empty_form_gets_a_message_per_field(client):
    response = client.post("/auth/login", data={"email": "", "password": ""})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter your email address." in text and "Enter your password." in text
    assert count(LoginAttempt) == 0


def test_inactive_user_cannot_sign_in(client, make_user):
    user = make_user(password=PASSWORD, active=False)
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 200 and "switched off" in response.get_data(as_text=True)
    assert is_sent_to_sign_in(client.get("/account/"))


def test_local_next_is_honoured(client, make_user):
    user = make_user(password=PASSWORD)
    response = sign_in(client, user.email, PASSWORD, next_="/account/")
    assert response.headers["Location"] == "/account/"


def test_a_login_required_page_sends_back_after_sign_in(client, make_user):
    user = make_user(password=PASSWORD)
    first = client.get("/account/")
    assert is_sent_to_sign_in(first)
    login_page = client.get(first.headers["Location"])
    next_value = re.search(rb'name="next" type="hidden" value="([^"]*)"', login_page.data).group(1).decode()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD, "next": next_value})
    assert response.headers["Location"] == "/account/"


@pytest.mark.parametrize(
    "target",
    ["https://evil.test", "//evil.test", "/\\evil.test", "\\\\evil.test", "/\t/evil.test", "javascript:alert(1)", "evil.test/x", "https:/evil.test"],
)
def test_open_redirects_are_ignored(client, make_user, target):
    user = make_user(password=PASSWORD)
    # Straight in the form, as an attacker would post it.
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/"
    # And through the page's query string.
    assert f'value="{target}"' not in client.get("/auth/login", query_string={"next": target}).get_data(as_text=True)


def test_signed_in_visitor_to_the_sign_in_page_is_sent_on(client, login_as):
    login_as("teacher")
    response = client.get("/auth/login?next=//evil.test")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- throttling --------------------------------------------------------------------------


class TestThrottling:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_MAX_FAILURES_PER_ACCOUNT": 3, "LOGIN_MAX_FAILURES_PER_IP": 6, "LOGIN_WINDOW_MINUTES": 15}

    def test_three_failures_lock_the_account_until_the_window_passes(self, client, make_user):
        user = make_user(password=PASSWORD)
        for _ in range(3):
            assert sign_in(client, user.email, "wrong password!").status_code == 200
        locked = sign_in(client, user.email, PASSWORD)
        assert locked.status_code == 429
        assert "Too many failed sign-in attempts. Try again in about 15 minutes." in locked.get_data(as_text=True)
        assert int(locked.headers["Retry-After"]) == 15 * 60
        assert is_sent_to_sign_in(client.get("/account/"))
        assert count(LoginAttempt) == 3

        # Time passes: move the failures back beyond the window.
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.at -= timedelta(minutes=16)
        db.session.commit()
        response = sign_in(client, user.email, PASSWORD)
        assert response.status_code in (302, 303)
        assert client.get("/account/").status_code == 200

    def test_one_address_trying_many_accounts_is_throttled(self, client):
        for n in range(6):
            client.post("/auth/login", data={"email": f"guess{n}@example.test", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
        response = client.post(
            "/auth/login", data={"email": "next@example.test", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
        )
        assert response.status_code == 429
        other = client.post(
            "/auth/login", data={"email": "next@example.test", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.10"}
        )
        assert other.status_code == 200


class TestCoarseRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 1000, "LOGIN_MAX_FAILURES_PER_IP": 1000}

    def test_more_than_twenty_posts_a_minute_are_refused(self, client):
        statuses = [client.post("/auth/login", data={"email": "a@example.test", "password": "x"}).status_code for _ in range(21)]
        assert statuses[:20] == [200] * 20 and statuses[20] == 429
        assert client.get("/auth/login").status_code == 200  # the page itself is not limited


# --- signing out and replayed cookies ----------------------------------------------------


def test_logout_is_post_only(client, login_as):
    login_as("teacher")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/account/").status_code == 200


def test_a_copied_cookie_stops_working_after_logout(client, make_user):
    user = make_user(password=PASSWORD)
    sign_in(client, user.email, PASSWORD)
    stolen = session_cookie(client)
    response = client.post("/auth/logout")
    assert response.status_code in (302, 303) and response.headers["Location"] == "/"
    assert "You have been signed out." in client.get("/").get_data(as_text=True)
    restore_cookie(client, stolen)
    assert is_sent_to_sign_in(client.get("/account/"))


def test_sign_in_replaces_the_session(client, make_user):
    user = make_user(password=PASSWORD)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, user.email, PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


# --- password reset ----------------------------------------------------------------------


def reset_link(app) -> str:
    [message] = outbox(app)
    match = re.search(r"(http://localhost/auth/reset/[A-Za-z0-9_\-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1).replace("http://localhost", "")


NEUTRAL = "If that email address has a Waymark account, we have sent it a link"


def test_reset_flow_works_once(app, client, make_user):
    user = make_user(password=PASSWORD)
    response = client.post("/auth/reset", data={"email": user.email}, follow_redirects=True)
    assert NEUTRAL in response.get_data(as_text=True)
    [message] = outbox(app)
    assert message["To"] == user.email
    link = reset_link(app)

    page = client.get(link)
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.get_data(as_text=True)
    mismatch = client.post(link, data={"password": NEW_PASSWORD, "confirm": "something else"})
    assert mismatch.status_code == 200 and "The two passwords do not match." in mismatch.get_data(as_text=True)
    common = client.post(link, data={"password": "password1234", "confirm": "password1234"})
    assert common.status_code == 200 and "too common" in common.get_data(as_text=True)

    done = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code in (302, 303) and done.headers["Location"] == "/auth/login"
    assert sign_in(client, user.email, NEW_PASSWORD).status_code in (302, 303)

    again = client.get(link)
    assert again.status_code == 400
    text = again.get_data(as_text=True)
    assert "expired or was already used" in text and 'href="/auth/reset"' in text
    assert client.post(link, data={"password": "yet another passphrase", "confirm": "yet another passphrase"}).status_code == 400
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, NEW_PASSWORD)


def test_reset_for_an_unknown_email_gives_the_same_answer_and_sends_nothing(app, client, make_user):
    known = make_user(password=PASSWORD)
    unknown = client.post("/auth/reset", data={"email": "nobody@example.test"})
    known_response = client.post("/auth/reset", data={"email": known.email})
    assert unknown.status_code == known_response.status_code
    assert unknown.headers["Location"] == known_response.headers["Location"]
    assert len(outbox(app)) == 1 and count(PasswordResetToken) == 1
    assert NEUTRAL in client.get("/auth/reset").get_data(as_text=True)


def test_expired_reset_link_is_refused(app, client, make_user):
    user = make_user(password=PASSWORD)
    client.post("/auth/reset", data={"email": user.email})
    link = reset_link(app)
    token = db.session.scalar(select(PasswordResetToken))
    token.expires_at -= timedelta(minutes=app.config["RESET_TOKEN_MINUTES"] + 1)
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 400 and "expired or was already used" in response.get_data(as_text=True)
    assert client.get("/auth/reset/not-a-real-token").status_code == 400


def test_reset_ends_existing_sessions(app, client, make_user):
    user = make_user(password=PASSWORD)
    sign_in(client, user.email, PASSWORD)
    stolen = session_cookie(client)
    other = app.test_client()
    other.post("/auth/reset", data={"email": user.email})
    link = reset_link(app)
    other.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    restore_cookie(client, stolen)
    assert is_sent_to_sign_in(client.get("/account/"))


# --- accepting an invitation -------------------------------------------------------------


def test_invitation_link_shows_who_invited_you_and_signs_you_in(app, client, make_user, make_school):
    school = make_school(name="Hillside Primary")
    lead = make_user(role="school_lead", organisation=school, name="Hana Lead")
    invitation, token = accounts.create_invitation(lead, "new.teacher@example.test", "Nia Teacher", "teacher", None)
    db.session.commit()
    page = client.get(f"/auth/invite/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Hana Lead" in text and "Hillside Primary" in text and "new.teacher@example.test" in text
    assert 'value="Nia Teacher"' in text

    users_before = count(User)
    short = client.post(f"/auth/invite/{token}", data={"name": "Nia Teacher", "password": "short", "confirm": "short"})
    assert short.status_code == 200 and "Use at least 12 characters." in short.get_data(as_text=True)
    assert count(User) == users_before

    response = client.post(f"/auth/invite/{token}", data={"name": "Nia Teacher", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code in (302, 303) and response.headers["Location"] == "/account/"
    account = client.get("/account/").get_data(as_text=True)
    assert "new.teacher@example.test" in account and "Hillside Primary" in account
    user = db.session.scalar(select(User).where(User.email == "new.teacher@example.test"))
    assert (user.role, user.organisation_id) == ("teacher", school.id)

    again = client.get(f"/auth/invite/{token}")
    assert again.status_code == 400
    reused = client.post(f"/auth/invite/{token}", data={"name": "X", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert reused.status_code == 400 and count(User) == users_before + 1


def test_expired_or_unknown_invitation_link_is_refused(app, client, make_user):
    lead = make_user(role="school_lead")
    invitation, token = accounts.create_invitation(lead, "late@example.test", "", "teacher", None)
    db.session.commit()
    stored = db.session.get(Invitation, invitation.id)
    stored.expires_at -= timedelta(days=app.config["INVITATION_DAYS"] + 1)
    db.session.commit()
    users_before = count(User)
    response = client.post(f"/auth/invite/{token}", data={"name": "Late", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 400
    assert "expired or was already used" in response.get_data(as_text=True)
    assert count(User) == users_before
    assert client.get("/auth/invite/unknown").status_code == 400


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_real_forms_carry_a_token_and_a_missing_one_is_refused(self, client, make_user):
        user = make_user(password=PASSWORD)
        assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code in (302, 303)
        # Signing in started a new session: sign out with the token from the new page.
        home = client.get("/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
        assert client.post("/auth/logout").status_code == 400
        assert client.post("/auth/logout", data={"csrf_token": token}).status_code in (302, 303)
        assert is_sent_to_sign_in(client.get("/account/"))
