"""Access rules generated from app.url_map, so a new route is covered the day it is added.

- every route not listed as public refuses anonymous users (sign-in redirect, or HX-Redirect);
- every /admin route refuses teachers, governors and school leads;
- every state-changing route refuses a request without a CSRF token.
Exemptions must be written here, with the reason.
"""
import pytest

from app import create_app
from tests.conftest import BASE_CONFIG

# Pages anyone may see. Everything else needs a signed-in user.
PUBLIC_ENDPOINTS = {
    "static",
    "main.home",
    "main.healthz",
    "pages.index",
    "pages.show",
    "directory.index",
    "directory.show",
    "directory.networks",
    "directory.network",
    "directory.person",
    "auth.login",
    "auth.logout",  # signing out when not signed in just goes home
    "auth.reset_request",
    "auth.reset_password",
    "auth.accept_invitation",
    "offers.index",
    "offers.show",
    "search.index",  # visitors search offers, organisations and experts; requests only when signed in
    "bookings.calendar",  # calendar apps cannot sign in: the secret token in the address is the key
}


def _app():
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def _rules():
    app = _app()
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = 1 if kind in ("IntegerConverter",) else "1"
    return rule.build(values, append_unknown=False)[1]


def _cases(methods_filter):
    cases = []
    for rule in _rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if methods_filter(method):
                cases.append(pytest.param(rule.endpoint, _url(rule), method, id=f"{method} {rule.rule}"))
    return cases


def test_public_list_names_only_real_endpoints():
    endpoints = {rule.endpoint for rule in _app().url_map.iter_rules()}
    assert PUBLIC_ENDPOINTS <= endpoints, PUBLIC_ENDPOINTS - endpoints


NON_PUBLIC_CASES = [case for case in _cases(lambda m: True) if case.values[0] not in PUBLIC_ENDPOINTS]


@pytest.mark.parametrize("endpoint,url,method", NON_PUBLIC_CASES)
def test_non_public_routes_refuse_anonymous_users(client, endpoint, url, method):
    response = client.open(url, method=method)
    assert response.status_code == 302, f"{method} {url} answered {response.status_code}"
    assert response.headers["Location"].startswith("/auth/login")
    htmx = client.open(url, method=method, headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect", "").startswith("/auth/login")


ADMIN_CASES = [case for case in _cases(lambda m: True) if case.values[1].startswith("/admin")]


@pytest.mark.parametrize("role", ["teacher", "governor", "school_lead"])
@pytest.mark.parametrize("endpoint,url,method", ADMIN_CASES)
def test_admin_routes_refuse_non_coordinators(client, login_as, role, endpoint, url, method):
    login_as(role)
    response = client.open(url, method=method)
    assert response.status_code == 403, f"{role} {method} {url} answered {response.status_code}"


def test_there_are_admin_routes_to_guard():
    assert len(ADMIN_CASES) >= 3
