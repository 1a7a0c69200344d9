"""Error pages for each status, following the htmx rules."""
import pytest
from flask import abort

from app.services.errors import Conflict, Invalid, NotAllowed, NotFound


@pytest.fixture
def failing_app(app):
    @app.get("/_test/abort/<int:code>")
    def _abort(code):
        abort(code)

    @app.get("/_test/crash")
    def _crash():
        raise RuntimeError("boom")

    @app.get("/_test/domain/<kind>")
    def _domain(kind):
        raise {"403": NotAllowed, "404": NotFound, "409": Conflict, "422": Invalid}[kind]("A clear reason.")

    return app


@pytest.mark.parametrize("code,title", [(400, "Bad request"), (403, "Forbidden"), (404, "Page not found"), (429, "Too many requests"), (503, "Temporarily unavailable")])
def test_error_pages_have_status_title_and_layout(failing_app, code, title):
    response = failing_app.test_client().get(f"/_test/abort/{code}")
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in body
    assert 'class="skip-link"' in body  # the whole site layout, not a bare error
    assert "Content-Security-Policy" in response.headers


def test_429_says_when_to_retry(failing_app):
    response = failing_app.test_client().get("/_test/abort/429")
    assert response.headers["Retry-After"]


def test_500_page_is_friendly_and_hides_details(failing_app):
    failing_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = failing_app.test_client().get("/_test/crash")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert "boom" not in body and "Traceback" not in body


@pytest.mark.parametrize("kind", ["403", "404", "409", "422"])
def test_domain_errors_map_to_status_and_message(failing_app, kind):
    response = failing_app.test_client().get(f"/_test/domain/{kind}")
    assert response.status_code == int(kind)
    assert "A clear reason." in response.get_data(as_text=True)


def test_htmx_errors_answer_with_a_short_message_not_a_page(failing_app):
    response = failing_app.test_client().get("/_test/abort/404", headers={"HX-Request": "true"})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "no page at this address" in body


def test_unknown_page_is_404(client):
    assert client.get("/no/such/page").status_code == 404


def test_login_required_redirects_plain_requests_to_sign_in(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    assert "%2Faccount%2F" in response.headers["Location"] or "/account/" in response.headers["Location"]


def test_login_required_on_htmx_request_answers_with_hx_redirect(client):
    response = client.get("/account/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/auth/login?next=")
    assert "Location" not in response.headers


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
