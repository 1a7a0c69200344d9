"""The admin area: who may enter, the user list and its CSV, role changes and switching accounts off."""
import csv
import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, User

PASSWORD = "correct horse battery"


def admin_routes(app):
    """Every /admin route, from the URL map, with sample ids: new routes are covered automatically."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    assert routes
    return routes


def is_sent_to_sign_in(response) -> bool:
    return response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


# --- who may enter -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_route(app, client, make_user):
    target = make_user()
    for method, url in admin_routes(app):
        response = client.open(url.replace("/1/", f"/{target.id}/"), method=method, data={"role": "admin", "active": "0"})
        assert is_sent_to_sign_in(response), (method, url)
    assert db.session.get(User, target.id).role == "teacher" and db.session.get(User, target.id).active


@pytest.mark.parametrize("role", ["teacher", "governor", "school_lead"])
def test_non_coordinators_get_403_on_every_admin_route(app, client, make_user, login_as, role):
    target = make_user()
    login_as(role)
    for method, url in admin_routes(app):
        response = client.open(url.replace("/1/", f"/{target.id}/"), method=method, data={"role": "admin", "active": "0"})
        assert response.status_code == 403, (method, url)
    stored = db.session.get(User, target.id)
    assert stored.role == "teacher" and stored.active


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_see_the_admin_pages(client, login_as, role):
    login_as(role)
    index = client.get("/admin/")
    text = index.get_data(as_text=True)
    assert index.status_code == 200 and text.count("<h1") == 1
    # Every link on the dashboard leads somewhere that exists.
    main = text.split('<main', 1)[1].split("</main>", 1)[0]
    links = set(re.findall(r'href="(/[^"]*)"', main))
    assert "/admin/users" in links and "/account/invitations" in links
    for link in links:
        assert client.get(link).status_code == 200, link


# --- the user list -----------------------------------------------------------------------


def test_user_list_filters_by_role_organisation_and_text(client, make_user, make_school, login_as):
    login_as("coordinator")
    oak = make_school(name="Oakfield Primary")
    make_user(role="teacher", organisation=oak, name="Olive Oak", email="olive@example.test")
    make_user(role="governor", organisation=oak, name="Gus Oak")
    make_user(role="teacher", name="Elsie Elsewhere")

    text = client.get("/admin/users?role=teacher&organisation=oakfield").get_data(as_text=True)
    assert "Olive Oak" in text and "Gus Oak" not in text and "Elsie Elsewhere" not in text
    text = client.get("/admin/users?q=olive@").get_data(as_text=True)
    assert "Olive Oak" in text and "Elsie Elsewhere" not in text
    bad = client.get("/admin/users?role=emperor&page=abc")
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)


def test_user_list_is_paged(client, make_user, make_school, login_as):
    login_as("coordinator")
    school = make_school(name="Big School")
    for n in range(52):
        make_user(role="teacher", organisation=school, name=f"Person {n:02d}")
    first = client.get("/admin/users?organisation=Big").get_data(as_text=True)
    assert "52 people" in first and "Page 1 of 2" in first and "Person 00" in first and "Person 51" not in first
    second = client.get("/admin/users?organisation=Big&page=2").get_data(as_text=True)
    assert "Person 51" in second and "Person 00" not in second
    assert client.get("/admin/users?organisation=Big&page=999").status_code == 200


def test_htmx_filter_request_gets_only_the_results(client, login_as):
    login_as("coordinator")
    response = client.get("/admin/users?q=x", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.lstrip().startswith('<div id="user-results"')
    assert "<html" not in text and "HX-Request" in response.headers["Vary"]


def test_csv_export_has_the_filtered_rows_and_defuses_formulas(client, make_user, make_school, login_as):
    login_as("coordinator")
    school = make_school(name="Csv School")
    make_user(role="teacher", organisation=school, name="=HYPERLINK(\"http://evil.test\")", email="formula@example.test")
    make_user(role="governor", organisation=school, name="Gwen Governor", email="gwen@example.test")
    response = client.get("/admin/users.csv?organisation=Csv&role=teacher")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["email"] for row in rows] == ["formula@example.test"]
    assert rows[0]["name"].startswith("'=") and rows[0]["organisation"] == "Csv School" and rows[0]["role"] == "teacher"


# --- roles -------------------------------------------------------------------------------


def test_coordinator_changes_a_teachers_role_and_their_session_ends(app, client, make_user, login_as):
    login_as("coordinator")
    teacher = make_user(role="teacher", password=PASSWORD)
    teacher_client = app.test_client()
    teacher_client.post("/auth/login", data={"email": teacher.email, "password": PASSWORD})
    assert teacher_client.get("/account/").status_code == 200

    response = client.post(f"/admin/users/{teacher.id}/role", data={"role": "school_lead", "next": "/admin/users?role=teacher"})
    assert response.status_code in (302, 303) and response.headers["Location"] == "/admin/users?role=teacher"
    assert db.session.get(User, teacher.id).role == "school_lead"
    assert audit_count("user.role_change") == 1
    assert is_sent_to_sign_in(teacher_client.get("/account/"))
    assert "is now school lead" in client.get("/admin/users").get_data(as_text=True)


def test_role_change_ignores_an_offsite_next(client, make_user, login_as):
    login_as("coordinator")
    teacher = make_user()
    response = client.post(f"/admin/users/{teacher.id}/role", data={"role": "governor", "next": "//evil.test/"})
    assert response.headers["Location"] == "/admin/users"


def test_only_admins_grant_admin(client, make_user, login, login_as):
    coordinator = login_as("coordinator")
    teacher = make_user()
    assert client.post(f"/admin/users/{teacher.id}/role", data={"role": "admin"}).status_code == 403
    assert db.session.get(User, teacher.id).role == "teacher"
    # The coordinator's page does not even offer it.
    row_selects = re.findall(r'<select name="role" id="role-\d+">(.*?)</select>', client.get("/admin/users").get_data(as_text=True), re.S)
    assert row_selects and not any('value="admin"' in options for options in row_selects)

    login(make_user(role="admin"))
    assert client.post(f"/admin/users/{teacher.id}/role", data={"role": "admin"}).status_code in (302, 303)
    assert db.session.get(User, teacher.id).role == "admin"
    login(coordinator)
    assert client.post(f"/admin/users/{teacher.id}/role", data={"role": "teacher"}).status_code == 403
    assert client.post(f"/admin/users/{teacher.id}/active", data={"active": "0"}).status_code == 403
    assert db.session.get(User, teacher.id).role == "admin" and db.session.get(User, teacher.id).active


def test_you_cannot_demote_or_switch_off_yourself(client, login_as):
    admin = login_as("admin")
    assert client.post(f"/admin/users/{admin.id}/role", data={"role": "teacher"}).status_code == 403
    assert client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}).status_code == 403
    stored = db.session.get(User, admin.id)
    assert stored.role == "admin" and stored.active
    assert client.get("/admin/").status_code == 200


def test_unknown_role_or_user_is_refused_without_change(client, make_user, login_as):
    login_as("admin")
    teacher = make_user()
    response = client.post(f"/admin/users/{teacher.id}/role", data={"role": "emperor"}, follow_redirects=True)
    assert response.status_code == 200 and "Choose one of the listed roles." in response.get_data(as_text=True)
    assert client.post("/admin/users/999999/role", data={"role": "teacher"}).status_code == 404
    coordinator = make_user(role="coordinator")  # no organisation
    response = client.post(f"/admin/users/{coordinator.id}/role", data={"role": "teacher"}, follow_redirects=True)
    assert "does not belong to a school" in response.get_data(as_text=True)
    assert db.session.get(User, teacher.id).role == "teacher" and db.session.get(User, coordinator.id).role == "coordinator"
    assert audit_count("user.role_change") == 0


# --- switching accounts off and on -------------------------------------------------------


def test_switching_an_account_off_signs_them_out_and_on_again_lets_them_in(app, client, make_user, login_as):
    login_as("coordinator")
    teacher = make_user(password=PASSWORD)
    teacher_client = app.test_client()
    teacher_client.post("/auth/login", data={"email": teacher.email, "password": PASSWORD})

    assert client.post(f"/admin/users/{teacher.id}/active", data={"active": "0"}).status_code in (302, 303)
    assert not db.session.get(User, teacher.id).active
    assert is_sent_to_sign_in(teacher_client.get("/account/"))
    refused = teacher_client.post("/auth/login", data={"email": teacher.email, "password": PASSWORD})
    assert refused.status_code == 200 and "switched off" in refused.get_data(as_text=True)

    assert client.post(f"/admin/users/{teacher.id}/active", data={"active": "1"}).status_code in (302, 303)
    assert teacher_client.post("/auth/login", data={"email": teacher.email, "password": PASSWORD}).status_code in (302, 303)
    assert audit_count("user.deactivate") == 1 and audit_count("user.reactivate") == 1


def test_bad_active_value_changes_nothing(client, make_user, login_as):
    login_as("coordinator")
    teacher = make_user()
    response = client.post(f"/admin/users/{teacher.id}/active", data={"active": "maybe"})
    assert response.status_code in (302, 303)
    assert db.session.get(User, teacher.id).active
