"""Security headers on every HTML response, and cookie flags."""
import pytest

from app import create_app
from tests.conftest import BASE_CONFIG


@pytest.mark.parametrize("path", ["/", "/directory", "/pages/about", "/auth/login", "/no-such-page"])
def test_security_headers_on_html_pages(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_and_htmx_eval_off(client):
    body = client.get("/").get_data(as_text=True)
    assert '"allowEval": false' in body and '"allowScriptTags": false' in body
    import re

    for match in re.finditer(r"<script([^>]*)>", body):
        assert "src=" in match.group(1), "inline script would be blocked by the CSP"
    assert " hx-on" not in body and "style=" not in body
    assert "hx-headers='{\"X-CSRFToken\": \"" in body


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_session_cookie_flags_in_production_config(tmp_path):
    # The sign-in page puts a CSRF token in the session without touching the database.
    app = create_app({**BASE_CONFIG, "TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite"})
    client = app.test_client()
    response = client.get("/auth/login", base_url="https://localhost")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


def test_vendored_htmx_is_version_2(client):
    response = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert response.status_code == 200
    assert b'version:"2.0.11"' in response.data or b"2.0.11" in response.data
    response.close()
