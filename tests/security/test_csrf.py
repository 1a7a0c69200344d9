"""Every state-changing route refuses a request without a CSRF token (routes from app.url_map)."""
import pytest

from tests.security.test_route_inventory import _cases

# No state-changing route is exempt from CSRF.
CSRF_EXEMPT: set[str] = set()
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.mark.parametrize("endpoint,url,method", _cases(lambda m: m in MUTATING))
def test_state_changing_routes_refuse_a_missing_csrf_token(client, login_as, endpoint, url, method):
    if endpoint in CSRF_EXEMPT:
        pytest.skip("exempt")
    login_as("admin")
    response = client.open(url, method=method, data={"anything": "1"})
    assert response.status_code == 400, f"{method} {url} answered {response.status_code}"
    assert "form had expired" in response.get_data(as_text=True)
