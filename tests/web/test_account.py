"""Your account page, changing your password, sessions, and inviting people."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Invitation, User
from app.services import passwords
from tests.support.accounts import PASSWORD, count, outbox, sign_in_as

NEW_PASSWORD = "lantern orchard pebble"


def is_sent_to_sign_in(response) -> bool:
    return response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]


# --- the page ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for method, url in [("get", "/account/"), ("post", "/account/profile"), ("post", "/account/password"),
                        ("post", "/account/sessions/end"), ("get", "/account/invitations"), ("get", "/account/invitations/new")]:
        response = getattr(client, method)(url)
        assert is_sent_to_sign_in(response), url


def test_account_page_shows_who_you_are(client, make_user, make_school, login):
    school = make_school(name="Brookside Primary")
    user = login(make_user(role="school_lead", organisation=school, name="Sam Lead", email="sam@example.test"))
    page = client.get("/account/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.count("<h1") == 1
    for expected in ("Sam Lead", "sam@example.test", "School lead", "Brookside Primary", "/account/invitations/new"):
        assert expected in text
    assert 'autocomplete="current-password"' in text and 'autocomplete="new-password"' in text


def test_teachers_see_no_invitation_links(client, login_as):
    login_as("teacher")
    assert "/account/invitations" not in client.get("/account/").get_data(as_text=True)


def test_profile_update_saves_and_bad_input_says_why(client, login_as):
    user = login_as("teacher")
    response = client.post("/account/profile", data={"name": "New Name", "job_title": "Head of maths", "phone": "01234 000000"})
    assert response.status_code in (302, 303)
    stored = db.session.get(User, user.id)
    assert (stored.name, stored.job_title, stored.phone) == ("New Name", "Head of maths", "01234 000000")
    assert "Your details have been saved." in client.get("/account/").get_data(as_text=True)

    bad = client.post("/account/profile", data={"name": "", "job_title": "x" * 200, "phone": ""})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert "Enter your name." in text and "Use at most 120 characters." in text
    assert db.session.get(User, user.id).name == "New Name"


# --- password ----------------------------------------------------------------------------


def test_wrong_current_password_is_a_form_error(client, make_user, login):
    user = login(make_user(password=PASSWORD))
    response = client.post("/account/password", data={"current_password": "nope nope nope", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 200
    assert "Your current password is not right." in response.get_data(as_text=True)
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


@pytest.mark.parametrize(
    "new, confirm, message",
    [
        ("short", "short", "Use at least 12 characters."),
        ("password1234", "password1234", "too common"),
        (NEW_PASSWORD, "different words here", "The two new passwords do not match."),
    ],
)
def test_new_password_policy(client, make_user, login, new, confirm, message):
    user = login(make_user(password=PASSWORD))
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": new, "confirm": confirm})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


def test_password_change_keeps_this_session_and_ends_the_others(app, client, make_user):
    user = make_user(password=PASSWORD)
    sign_in_as(client, user)
    other_device = app.test_client()
    sign_in_as(other_device, user)
    copied = client.get_cookie("session").value

    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code in (302, 303)
    assert client.get("/account/").status_code == 200  # still signed in here
    assert is_sent_to_sign_in(other_device.get("/account/"))  # signed out there

    client.set_cookie("session", copied)  # a copy of this device's old cookie
    assert is_sent_to_sign_in(client.get("/account/"))

    fresh = app.test_client()
    assert sign_in_as(fresh, user, PASSWORD).status_code == 200  # the old password no longer works
    assert sign_in_as(fresh, user, NEW_PASSWORD).status_code in (302, 303)


def test_sign_out_everywhere_else(app, client, make_user):
    user = make_user(password=PASSWORD)
    sign_in_as(client, user)
    other_device = app.test_client()
    sign_in_as(other_device, user)
    response = client.post("/account/sessions/end")
    assert response.status_code in (302, 303)
    assert client.get("/account/").status_code == 200
    assert is_sent_to_sign_in(other_device.get("/account/"))
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "user.sessions_ended")) == 1


# --- invitations -------------------------------------------------------------------------


def invite(client, **data):
    form = {"email": "new.person@example.test", "name": "New Person", "role": "teacher", "organisation_id": "0"}
    form.update(data)
    return client.post("/account/invitations/new", data=form)


def test_school_lead_invites_a_teacher_and_the_email_goes_out(app, client, make_user, make_school, login):
    school = make_school(name="Meadow Primary")
    lead = login(make_user(role="school_lead", organisation=school, name="Lee Lead"))
    page = client.get("/account/invitations/new")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Meadow Primary" in text
    assert 'value="coordinator"' not in text and 'value="admin"' not in text

    response = invite(client, organisation_id=str(school.id))
    assert response.status_code in (302, 303) and response.headers["Location"] == "/account/invitations"
    invitation = db.session.scalar(select(Invitation))
    assert (invitation.email, invitation.role, invitation.organisation_id, invitation.invited_by_id) == (
        "new.person@example.test", "teacher", school.id, lead.id)

    [message] = outbox(app)
    assert message["To"] == "new.person@example.test"
    body = message.get_content()
    assert "Lee Lead" in body and "Meadow Primary" in body
    link = re.search(r"http://localhost/auth/invite/([A-Za-z0-9_\-]+)", body)
    assert link and len(link.group(1)) >= 40
    assert link.group(1) not in invitation.token_hash

    listing = client.get("/account/invitations").get_data(as_text=True)
    assert "new.person@example.test" in listing and "Invitation sent to new.person@example.test." in listing


@pytest.mark.parametrize("role", ["teacher", "governor"])
def test_teachers_and_governors_cannot_invite(client, login_as, role):
    login_as(role)
    assert client.get("/account/invitations/new").status_code == 403
    assert client.get("/account/invitations").status_code == 403
    assert invite(client).status_code == 403
    assert count(Invitation) == 0


def test_school_lead_cannot_invite_to_another_school_or_as_coordinator(app, client, make_user, make_school, login):
    lead = login(make_user(role="school_lead"))
    other = make_school()
    to_other_school = invite(client, organisation_id=str(other.id))
    assert to_other_school.status_code == 200 and "Not a valid choice" in to_other_school.get_data(as_text=True)
    as_coordinator = invite(client, role="coordinator", organisation_id=str(lead.organisation_id))
    assert as_coordinator.status_code == 200 and "Not a valid choice" in as_coordinator.get_data(as_text=True)
    assert count(Invitation) == 0 and outbox(app) == []


@pytest.mark.parametrize(
    "email, message",
    [("not-an-email", "right format"), ("", "Enter their email address.")],
)
def test_invalid_email_is_a_form_error(app, client, login_as, email, message):
    lead = login_as("school_lead")
    response = invite(client, email=email, organisation_id=str(lead.organisation_id))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert count(Invitation) == 0 and outbox(app) == []


def test_duplicate_invitation_and_existing_user_are_form_errors(app, client, make_user, login_as):
    lead = login_as("school_lead")
    make_user(email="taken@example.test")
    taken = invite(client, email="Taken@Example.test", organisation_id=str(lead.organisation_id))
    assert taken.status_code == 200 and "There is already an account with that email address." in taken.get_data(as_text=True)

    assert invite(client, organisation_id=str(lead.organisation_id)).status_code in (302, 303)
    again = invite(client, role="governor", organisation_id=str(lead.organisation_id))
    assert again.status_code == 200 and "already been invited" in again.get_data(as_text=True)
    assert count(Invitation) == 1 and len(outbox(app)) == 1


def test_coordinator_invites_a_coordinator_without_an_organisation(client, login_as):
    login_as("coordinator")
    page = client.get("/account/invitations/new").get_data(as_text=True)
    assert 'value="coordinator"' in page and 'value="admin"' not in page
    assert invite(client, role="coordinator", organisation_id="0").status_code in (302, 303)
    assert db.session.scalar(select(Invitation)).organisation_id is None
    refused = invite(client, email="boss@example.test", role="admin", organisation_id="0")
    assert refused.status_code == 200 and count(Invitation) == 1


def test_admin_may_invite_an_admin(client, login_as):
    login_as("admin")
    assert invite(client, role="admin", organisation_id="0").status_code in (302, 303)
    assert db.session.scalar(select(Invitation)).role == "admin"


def test_revoking_an_invitation_kills_its_link(app, client, login_as):
    lead = login_as("school_lead")
    invite(client, organisation_id=str(lead.organisation_id))
    token = re.search(r"/auth/invite/([A-Za-z0-9_\-]+)", outbox(app)[0].get_content()).group(1)
    invitation = db.session.scalar(select(Invitation))
    response = client.post(f"/account/invitations/{invitation.id}/revoke")
    assert response.status_code in (302, 303)
    listing = client.get("/account/invitations").get_data(as_text=True)
    assert "has been withdrawn" in listing and "There are no invitations waiting to be accepted." in listing
    assert db.session.get(Invitation, invitation.id).revoked_at is not None
    assert app.test_client().get(f"/auth/invite/{token}").status_code == 400


def test_school_lead_cannot_revoke_another_schools_invitation(app, client, make_user, login):
    first_lead = make_user(role="school_lead")
    login(first_lead)
    invite(client, organisation_id=str(first_lead.organisation_id))
    invitation = db.session.scalar(select(Invitation))
    login(make_user(role="school_lead"))  # the same client, now another school's lead
    assert client.post(f"/account/invitations/{invitation.id}/revoke").status_code == 403
    assert db.session.get(Invitation, invitation.id).revoked_at is None
    assert client.post("/account/invitations/99999/revoke").status_code == 404
