def test_home_page_renders_with_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_login_as_signs_in(client, login_as):
    login_as("coordinator")
    response = client.get("/admin/")
    assert response.status_code == 200
