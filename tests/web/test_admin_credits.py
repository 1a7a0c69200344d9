"""/admin/credits and /admin/settings: the scheme's totals and ledger check, the coordinator's
tools (allocation, purchase, seed credits, adjustment, reversal), their denials, double
submits, bad input, and the pages with credits switched off."""
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Account, AuditLog, Setting, Transfer
from app.services import bookings, credits, ledger

TOOL_ROUTES = [
    ("GET", "/admin/credits"),
    ("GET", "/admin/credits/allocation?year=2026-27"),
    ("POST", "/admin/credits/allocation"),
    ("GET", "/admin/credits/purchase"),
    ("POST", "/admin/credits/purchase"),
    ("GET", "/admin/credits/grant"),
    ("POST", "/admin/credits/grant"),
    ("GET", "/admin/credits/adjustment"),
    ("POST", "/admin/credits/adjustment"),
    ("GET", "/admin/credits/transfers"),
    ("GET", "/admin/credits/transfers/{t}/reverse"),
    ("POST", "/admin/credits/transfers/{t}/reverse"),
    ("GET", "/admin/settings"),
    ("POST", "/admin/settings"),
]


def transfers() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer))


def settings_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Setting))


def main_of(response) -> str:
    return response.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]


def request_key(client, url) -> str:
    page = client.get(url)
    assert page.status_code == 200, url
    match = re.search(r'name="request_key" type="hidden" value="([0-9a-f]{32})"', page.get_data(as_text=True))
    assert match, f"no request key on {url}"
    return match.group(1)


@pytest.fixture
def world(make_school, make_user):
    small = make_school(name="Small Primary", pupils=80, la_code="916", la_name="Gloucestershire")
    middle = make_school(name="Middle Primary", pupils=240, la_code="916", la_name="Gloucestershire")
    big = make_school(name="Big High", pupils=1400, la_code="801", la_name="Bristol", phase="secondary")
    unknown = make_school(name="Unknown Size School", pupils=None)
    coordinator = make_user(role="coordinator")
    ledger.issue(coordinator, kind="grant", organisation_id=small.id, amount=5, key="seed-small", reason="Seed")
    db.session.commit()
    return {"small": small, "middle": middle, "big": big, "unknown": unknown, "coordinator": coordinator}


@pytest.fixture
def coordinator(client, login, world):
    return login(world["coordinator"])


# --- the dashboard ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_the_dashboard_shows_totals_and_a_clean_ledger_check(client, login_as, world, role):
    login_as(role)
    html = main_of(client.get("/admin/credits"))
    assert html.count("<h1") == 1
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert figures["Credits issued"] == "5" and figures["In circulation"] == "5" and figures["Held in escrow"] == "0"
    assert "ledger-ok" in main_of(client.get("/admin/credits?check=1"))
    for endpoint in ("allocation", "purchase", "grant", "adjustment", "transfers"):
        assert f'href="/admin/credits/{endpoint}"' in html
    assert 'href="/admin/settings"' in html
    # Every link on the page leads somewhere that exists.
    for link in set(re.findall(r'href="(/[^"]*)"', html)):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_the_dashboard_reports_ledger_problems(client, coordinator, world):
    db.session.execute(update(Account).where(Account.organisation_id == world["small"].id).values(balance=99))
    db.session.commit()
    html = main_of(client.get("/admin/credits"))
    assert "ledger-problems" not in html and "Check the ledger now" in html, "the full check runs on request"
    html = main_of(client.get("/admin/credits?check=1"))
    assert "ledger-problems" in html and "shows a balance of 99 but its entries sum to 5" in html


# --- who may use the tools --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "governor", "school_lead"])
def test_school_roles_get_403_from_every_credit_tool_and_nothing_is_written(client, login, make_user, world, role):
    login(make_user(role=role, organisation=world["small"]))
    before = (transfers(), settings_rows(), ledger.balance_of(world["small"].id))
    first = db.session.scalar(select(Transfer.id))
    data = {
        "request_key": uuid.uuid4().hex, "organisation": world["small"].id, "amount": "50", "invoice_reference": "INV",
        "reason": "Because", "schools": [world["small"].id], "year": "2026-27", "la": "", "fingerprint": "x" * 32,
        "late_cancellation_policy": "refund", "no_show_policy": "refund", "waitlist_offer_hours": "5",
        "bands-0-low": "0", "bands-0-credits": "99", "cap": "99",
    }
    for method, url in TOOL_ROUTES:
        response = client.open(url.format(t=first), method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (method, url)
    assert (transfers(), settings_rows(), ledger.balance_of(world["small"].id)) == before


def test_visitors_are_sent_to_sign_in(client, world):
    for method, url in TOOL_ROUTES:
        response = client.open(url.format(t=1), method=method)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], (method, url)


# --- yearly allocation ----------------------------------------------------------------------------


def test_the_allocation_preview_shows_each_school_with_its_band_and_credits(client, coordinator, world):
    first = main_of(client.get("/admin/credits/allocation"))
    assert 'value="2026-27"' in first or 'name="year"' in first
    html = main_of(client.get("/admin/credits/allocation?year=2026-27&la="))
    rows = {re.sub(r"<[^>]+>", "", name).strip(): [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
            for name, cells in ((m.group(1), re.findall(r"<td[^>]*>(.*?)</td>", m.group(2), re.S))
                                for m in re.finditer(r'<tr class="allocation-\w+">\s*<th scope="row">(.*?)</th>(.*?)</tr>', html, re.S))}
    assert rows["Small Primary"][1:4] == ["80", "0–100 pupils", "10"]
    assert rows["Middle Primary"][1:4] == ["240", "101–250 pupils", "20"]
    assert rows["Big High"][1:4] == ["1,400", "501+ pupils", "40"]
    assert rows["Unknown Size School"][3] == "0" and "No pupil number" in rows["Unknown Size School"][4]
    assert "Post allocation: 70 credits to 3 schools" in html


def test_the_allocation_respects_the_cap_and_one_local_authority(client, coordinator, world):
    credits.save_settings(world["coordinator"], late_cancellation_policy="refund", no_show_policy="refund",
                          waitlist_offer_hours=48, allocation=(credits.DEFAULT_BANDS, 25))
    db.session.commit()
    html = main_of(client.get("/admin/credits/allocation?year=2026-27&la=801"))
    assert "Big High" in html and "Small Primary" not in html
    assert "25 <span class=\"muted small\">(capped)</span>" in html
    assert "Post allocation: 25 credits to 1 school" in html


def _post_allocation(client, year="2026-27", la=""):
    html = client.get(f"/admin/credits/allocation?year={year}&la={la}").get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"', html)
    assert fingerprint, "no post form"
    return client.post("/admin/credits/allocation", data={"year": year, "la": la, "fingerprint": fingerprint.group(1)})


def test_posting_the_allocation_twice_allocates_each_school_once(client, coordinator, world):
    response = _post_allocation(client)
    assert response.status_code == 302 and "/admin/credits/allocation?year=2026-27" in response.headers["Location"]
    page = main_of(client.get(response.headers["Location"]))
    assert "Allocated 70 credits to 3 schools for 2026-27." in page
    assert "Already allocated: 10" in page and "Nothing to post" in page
    allocations = db.session.scalars(select(Transfer).where(Transfer.kind == "allocation")).all()
    assert sorted(t.amount for t in allocations) == [10, 20, 40]
    assert {t.idempotency_key for t in allocations} == {f"allocation:2026-27:{world[n].id}" for n in ("small", "middle", "big")}
    # The same post again (a double click, or the back button): nothing more.
    html = client.get("/admin/credits/allocation?year=2026-27&la=").get_data(as_text=True)
    assert 'name="fingerprint"' not in html
    again = client.post("/admin/credits/allocation", data={"year": "2026-27", "la": "", "fingerprint": "0" * 32})
    assert again.status_code == 302
    assert "already allocated for 2026-27: nothing new was posted" in main_of(client.get(again.headers["Location"]))
    assert db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.kind == "allocation")) == 3
    assert ledger.balance_of(world["small"].id).available == 15
    assert ledger.verify() == []


def test_posting_from_an_old_preview_is_refused(client, coordinator, world, make_school):
    html = client.get("/admin/credits/allocation?year=2026-27&la=").get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"', html).group(1)
    make_school(name="Late Joiner", pupils=120)
    response = client.post("/admin/credits/allocation", data={"year": "2026-27", "la": "", "fingerprint": fingerprint})
    assert "figures have changed since you looked at the preview" in main_of(client.get(response.headers["Location"]))
    assert transfers() == 1


@pytest.mark.parametrize("query", ["year=2026", "year=", "year=2026-28", "year=%00", "year=2026-27&la=nowhere"])
def test_bad_allocation_input_gets_a_message(client, coordinator, world, query):
    response = client.get(f"/admin/credits/allocation?{query}")
    assert response.status_code == 200
    html = main_of(response)
    assert "error-summary" in html and 'name="fingerprint"' not in html


def test_a_post_without_a_preview_is_refused(client, coordinator, world):
    for data in ({}, {"year": "2026-27"}, {"year": "junk", "fingerprint": "x"}):
        response = client.post("/admin/credits/allocation", data=data)
        assert response.status_code == 302
    assert transfers() == 1


# --- purchase, grant, adjustment ---------------------------------------------------------------------


def test_recording_a_purchase(client, coordinator, world):
    key = request_key(client, f"/admin/credits/purchase?organisation={world['middle'].id}")
    response = client.post("/admin/credits/purchase", data={
        "request_key": key, "organisation": world["middle"].id, "amount": "25", "invoice_reference": "INV-2026-0142",
        "note": "Summer term",
    })
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/credits")
    assert "Recorded a purchase of 25 credits by Middle Primary (invoice INV-2026-0142)." in main_of(client.get("/admin/credits"))
    purchase = db.session.scalar(select(Transfer).where(Transfer.kind == "purchase"))
    assert (purchase.amount, purchase.invoice_reference, purchase.reason) == (25, "INV-2026-0142", "Summer term")
    assert purchase.actor_id == world["coordinator"].id
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "credits.purchase")) == 1


def test_the_purchase_form_preselects_the_school(client, coordinator, world):
    html = main_of(client.get(f"/admin/credits/purchase?organisation={world['middle'].id}"))
    assert f'<option selected value="{world["middle"].id}">Middle Primary</option>' in html


def test_granting_seed_credits_to_chosen_schools(client, coordinator, world):
    key = request_key(client, "/admin/credits/grant")
    response = client.post("/admin/credits/grant", data={
        "request_key": key, "schools": [world["middle"].id, world["big"].id], "amount": "8", "reason": "Isolated schools",
    })
    assert response.status_code == 302
    assert "Granted 8 seed credits to each of 2 schools (16 in all)." in main_of(client.get("/admin/credits"))
    assert ledger.balance_of(world["middle"].id).available == 8 and ledger.balance_of(world["big"].id).available == 8


def test_the_grant_search_keeps_ticked_schools(client, coordinator, world):
    response = client.get(f"/admin/credits/grant?q=high&schools={world['small'].id}", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert "<h1" not in text and 'id="schools"' in text
    assert re.search(rf'value="{world["small"].id}" id="school-{world["small"].id}" checked', text)
    assert "Big High" in text and "Middle Primary" not in text
    by_la = main_of(client.get("/admin/credits/grant?la=801"))
    assert "Big High" in by_la and "Small Primary" not in by_la


def test_adjustments_add_and_take_away(client, coordinator, world):
    for amount, expected in (("7", 12), ("-4", 8)):
        key = request_key(client, "/admin/credits/adjustment")
        response = client.post("/admin/credits/adjustment", data={
            "request_key": key, "organisation": world["small"].id, "amount": amount, "reason": "Correction",
        })
        assert response.status_code == 302
        assert ledger.balance_of(world["small"].id).available == expected
    assert "Took away 4 credits from Small Primary." in main_of(client.get("/admin/credits"))


def test_reversing_a_transfer(client, coordinator, world):
    seed = db.session.scalar(select(Transfer))
    page = main_of(client.get(f"/admin/credits/transfers/{seed.id}/reverse"))
    assert f"Reverse transfer #{seed.id}" in page and "Small Primary" in page
    key = request_key(client, f"/admin/credits/transfers/{seed.id}/reverse")
    response = client.post(f"/admin/credits/transfers/{seed.id}/reverse", data={"request_key": key, "reason": "Wrong school"})
    assert response.status_code == 302
    reversal = db.session.scalar(select(Transfer).where(Transfer.kind == "reversal"))
    assert reversal.reverses_id == seed.id and ledger.balance_of(world["small"].id).available == 0
    listing = main_of(client.get("/admin/credits/transfers"))
    assert f"Reversed by #{reversal.id}" in listing and f"Reverses #{seed.id}" in listing
    # Not offered again, and refused if asked.
    assert "<form" not in main_of(client.get(f"/admin/credits/transfers/{seed.id}/reverse")).split("</dl>", 1)[1]
    again = client.post(f"/admin/credits/transfers/{seed.id}/reverse", data={"request_key": uuid.uuid4().hex, "reason": "Again"})
    assert again.status_code == 200 and "already been reversed" in main_of(again)
    itself = client.post(f"/admin/credits/transfers/{reversal.id}/reverse", data={"request_key": uuid.uuid4().hex, "reason": "x"})
    assert itself.status_code == 200 and "cannot itself be reversed" in main_of(itself)
    assert transfers() == 2
    assert client.get("/admin/credits/transfers/999999/reverse").status_code == 404


def test_reversing_credits_already_spent_says_so(client, coordinator, world):
    seed = db.session.scalar(select(Transfer))
    ledger.hold(None, organisation_id=world["small"].id, amount=5, booking_id=1, key="spend")
    db.session.commit()
    response = client.post(f"/admin/credits/transfers/{seed.id}/reverse", data={"request_key": uuid.uuid4().hex, "reason": "x"})
    assert response.status_code == 200 and "Not enough credits" in main_of(response)
    assert transfers() == 2


def test_the_transfer_list_filters_by_school_and_kind(client, coordinator, world):
    credits.record_purchase(world["coordinator"], organisation_id=world["big"].id, amount=3, invoice_reference="I", form_key="a" * 32)
    db.session.commit()
    assert "2</strong> transfers" in main_of(client.get("/admin/credits/transfers"))
    html = main_of(client.get("/admin/credits/transfers?q=big&kind="))
    assert "1</strong> transfer match" in html and "Big High" in html and "Small Primary" not in html
    html = main_of(client.get("/admin/credits/transfers?kind=grant"))
    assert "Small Primary" in html and "Big High" not in html
    fragment = client.get(f"/admin/credits/transfers?organisation={world['big'].id}", headers={"HX-Request": "true"})
    assert "<h1" not in fragment.get_data(as_text=True) and "Big High" in fragment.get_data(as_text=True)
    for query in ("kind=bogus", "page=-1", "page=x", "organisation=x", "q=%00"):
        assert client.get(f"/admin/credits/transfers?{query}").status_code == 200


# --- double submits ----------------------------------------------------------------------------------


def test_a_double_submit_of_each_tool_makes_one_transfer(client, coordinator, world):
    seed = db.session.scalar(select(Transfer))
    cases = [
        ("/admin/credits/purchase", {"organisation": world["middle"].id, "amount": "5", "invoice_reference": "I-1"}),
        ("/admin/credits/grant", {"schools": [world["middle"].id, world["big"].id], "amount": "2", "reason": "Seed"}),
        ("/admin/credits/adjustment", {"organisation": world["big"].id, "amount": "3", "reason": "Fix"}),
        (f"/admin/credits/transfers/{seed.id}/reverse", {"reason": "Undo"}),
    ]
    for url, data in cases:
        data = {**data, "request_key": request_key(client, url)}
        before = transfers()
        first = client.post(url, data=data)
        second = client.post(url, data=data)
        assert first.status_code == 302 and second.status_code == 302, url
        grown = 2 if "grant" in url else 1
        assert transfers() == before + grown, url
        assert "already recorded" in main_of(client.get(second.headers["Location"])), url
    assert ledger.verify() == []


def test_the_same_key_with_other_figures_is_not_a_second_transfer(client, coordinator, world):
    key = request_key(client, "/admin/credits/adjustment")
    client.post("/admin/credits/adjustment", data={"request_key": key, "organisation": world["big"].id, "amount": "3", "reason": "Fix"})
    response = client.post("/admin/credits/adjustment", data={"request_key": key, "organisation": world["big"].id, "amount": "4", "reason": "Fix"})
    assert response.status_code == 200 and "already sent once with different figures" in main_of(response)
    new_key = re.search(r'name="request_key" type="hidden" value="([0-9a-f]{32})"', response.get_data(as_text=True)).group(1)
    assert new_key != key
    assert ledger.balance_of(world["big"].id).available == 3


# --- bad input ----------------------------------------------------------------------------------------


BAD_INPUT = [
    ("/admin/credits/purchase", {"organisation": "{small}", "amount": "ten", "invoice_reference": "I"}, "Enter a whole number of credits"),
    ("/admin/credits/purchase", {"organisation": "{small}", "amount": "0", "invoice_reference": "I"}, "from 1 to 10,000"),
    ("/admin/credits/purchase", {"organisation": "{small}", "amount": "99999999999999999999", "invoice_reference": "I"}, "Enter a whole number"),
    ("/admin/credits/purchase", {"organisation": "{small}", "amount": "1000000", "invoice_reference": "I"}, "from 1 to 10,000"),
    ("/admin/credits/purchase", {"organisation": "{small}", "amount": "5", "invoice_reference": "  "}, "Enter the invoice reference."),
    ("/admin/credits/purchase", {"organisation": "999999", "amount": "5", "invoice_reference": "I"}, "Choose a school or organisation from the list."),
    ("/admin/credits/purchase", {"organisation": "abc", "amount": "5", "invoice_reference": "I"}, "Choose a school or organisation from the list."),
    ("/admin/credits/purchase", {"organisation": "", "amount": "5", "invoice_reference": "I"}, "Choose the school that bought credits."),
    ("/admin/credits/purchase", {"organisation": "{small}", "amount": "5", "invoice_reference": "x" * 101}, "at most 100 characters"),
    ("/admin/credits/purchase", {"organisation": "{small}", "amount": "٣", "invoice_reference": "I"}, "Enter a whole number"),
    ("/admin/credits/grant", {"amount": "5", "reason": "r"}, "Choose at least one school."),
    ("/admin/credits/grant", {"schools": ["999999"], "amount": "5", "reason": "r"}, "Choose from the list."),
    ("/admin/credits/grant", {"schools": ["{small}"], "amount": "-5", "reason": "r"}, "from 1 to 10,000"),
    ("/admin/credits/grant", {"schools": ["{small}"], "amount": "5", "reason": ""}, "Say why these schools get seed credits."),
    ("/admin/credits/adjustment", {"organisation": "{small}", "amount": "0", "reason": "r"}, "not zero"),
    ("/admin/credits/adjustment", {"organisation": "{small}", "amount": "5", "reason": " "}, "Give the reason for the adjustment."),
    ("/admin/credits/adjustment", {"organisation": "{small}", "amount": "-20000", "reason": "r"}, "at most 10,000"),
    ("/admin/credits/adjustment", {"organisation": "{small}", "amount": "1.5", "reason": "r"}, "like 5 or -5"),
    ("/admin/credits/adjustment", {"organisation": "{small}", "amount": "-6", "reason": "r"}, "only 5 are available"),
    ("/admin/credits/transfers/{seed}/reverse", {"reason": ""}, "Give the reason for the reversal."),
]


@pytest.mark.parametrize("url,data,message", BAD_INPUT)
def test_bad_input_gets_a_clear_message_and_writes_nothing(client, coordinator, world, url, data, message):
    seed = db.session.scalar(select(Transfer.id))
    ids = {"small": world["small"].id, "seed": seed}
    url = url.format(**ids)
    fill = lambda v: v.format(**ids) if isinstance(v, str) else [x.format(**ids) for x in v]  # noqa: E731
    data = {key: fill(value) for key, value in data.items()}
    before = (transfers(), ledger.balance_of(world["small"].id))
    response = client.post(url, data={**data, "request_key": request_key(client, url)})
    assert response.status_code == 200
    html = main_of(response)
    assert message in html and "error-summary" in html
    assert (transfers(), ledger.balance_of(world["small"].id)) == before


def test_a_missing_or_forged_request_key_is_refused(client, coordinator, world):
    for key in ("", "abc", "Z" * 32, None):
        data = {"organisation": world["small"].id, "amount": "5", "invoice_reference": "I"}
        if key is not None:
            data["request_key"] = key
        response = client.post("/admin/credits/purchase", data=data)
        assert response.status_code == 200 and "This form has expired" in main_of(response)
    for url in ("/admin/credits/purchase", "/admin/credits/grant", "/admin/credits/adjustment",
                "/admin/credits/transfers/1/reverse", "/admin/settings", "/admin/credits/allocation"):
        assert client.post(url).status_code in (200, 302), url
    assert transfers() == 1 and settings_rows() == 0


junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=24)
amounts = st.one_of(junk, st.integers(min_value=-10**12, max_value=10**12).map(str), st.sampled_from(["1", "10000", "10001", "0", "-1", " 7 ", "1,000"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_tool_forms_never_fail_and_only_valid_input_writes(client, coordinator, world, data):
    ids = [str(world[n].id) for n in ("small", "middle", "big")]
    url = data.draw(st.sampled_from(["/admin/credits/purchase", "/admin/credits/adjustment", "/admin/credits/grant"]))
    form = {
        "request_key": data.draw(st.one_of(st.just(uuid.uuid4().hex), junk)),
        "organisation": data.draw(st.one_of(st.sampled_from(ids), junk)),
        "schools": data.draw(st.lists(st.one_of(st.sampled_from(ids), junk), max_size=3)),
        "amount": data.draw(amounts),
        "invoice_reference": data.draw(junk),
        "reason": data.draw(junk),
        "note": data.draw(junk),
    }
    before = transfers()
    response = client.post(url, data=form)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert transfers() == before
        assert "error-summary" in main_of(response)
    else:
        assert transfers() > before
    assert ledger.verify() == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_settings_form_never_fails(client, coordinator, world, data):
    numbers = st.one_of(junk, st.integers(min_value=-5, max_value=2000).map(str), st.just(""))
    form = {
        "late_cancellation_policy": data.draw(st.one_of(st.sampled_from(["refund", "forfeit_provider", "forfeit_scheme"]), junk)),
        "no_show_policy": data.draw(st.one_of(st.sampled_from(["refund", "forfeit_scheme"]), junk)),
        "waitlist_offer_hours": data.draw(numbers),
        "cap": data.draw(numbers),
    }
    for row in range(data.draw(st.integers(min_value=0, max_value=3))):
        for part in ("low", "high", "credits"):
            form[f"bands-{row}-{part}"] = data.draw(numbers)
    before = credits.scheme_settings()
    response = client.post("/admin/settings", data=form)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert credits.scheme_settings() == before


# --- settings -------------------------------------------------------------------------------------------


def _settings_form(**overrides):
    form = {"late_cancellation_policy": "refund", "no_show_policy": "forfeit_scheme", "waitlist_offer_hours": "24",
            "bands-0-low": "0", "bands-0-high": "150", "bands-0-credits": "12",
            "bands-1-low": "151", "bands-1-high": "", "bands-1-credits": "30", "cap": "30"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_change_the_settings(client, login_as, world, role):
    login_as(role)
    page = main_of(client.get("/admin/settings"))
    assert 'value="forfeit_provider"' in page and 'id="bands-0-low"' in page and 'value="501"' in page
    response = client.post("/admin/settings", data=_settings_form())
    assert response.status_code == 302
    assert bookings.setting("late_cancellation_policy") == "refund"
    assert bookings.setting("no_show_policy") == "forfeit_scheme"
    assert bookings.setting("waitlist_offer_hours") == 24
    assert credits.scheme_settings()["allocation_bands"] == [[0, 150, 12], [151, None, 30]]
    assert "Settings saved." in main_of(client.get("/admin/settings"))
    html = main_of(client.get("/admin/credits/allocation?year=2026-27"))
    assert "0–150 pupils → 12" in html


@pytest.mark.parametrize("overrides,message", [
    ({"bands-1-low": "150"}, "inside band 1"),
    ({"bands-1-low": "100", "bands-1-high": "120"}, "inside band 1"),
    ({"bands-0-credits": "-1"}, "from 0 to 10,000"),
    ({"bands-0-high": "", "bands-1-low": "151"}, "no upper limit, so it must be the last band"),
    ({"bands-1-credits": ""}, "needs ‘pupils from’ and credits"),
    ({"bands-0-low": "", "bands-0-high": "", "bands-0-credits": "", "bands-1-low": "", "bands-1-credits": ""}, "Set at least one band."),
    ({"waitlist_offer_hours": "0"}, "from 1 to 336 hours"),
    ({"waitlist_offer_hours": "soon"}, "Enter a whole number of hours."),
    ({"late_cancellation_policy": "keep"}, "Not a valid choice"),
    ({"cap": ""}, "The cap must be a whole number"),
])
def test_bad_settings_are_explained_and_nothing_is_saved(client, coordinator, world, overrides, message):
    response = client.post("/admin/settings", data=_settings_form(**overrides))
    assert response.status_code == 200
    html = main_of(response)
    assert message in html and "error-summary" in html
    assert settings_rows() == 0


# --- credits switched off -------------------------------------------------------------------------------


@pytest.fixture
def credits_off(app):
    app.config["CREDITS_ENABLED"] = False
    yield
    app.config["CREDITS_ENABLED"] = True


def test_with_credits_off_the_dashboard_says_so_and_the_tools_are_gone(client, coordinator, world, credits_off):
    response = client.get("/admin/credits")
    html = main_of(response)
    assert response.status_code == 200 and "Credits are switched off" in html
    assert "/admin/credits/" not in html
    seed = db.session.scalar(select(Transfer.id))
    for method, url in TOOL_ROUTES:
        if url in ("/admin/credits", "/admin/settings"):
            continue
        response = client.open(url.format(t=seed), method=method, data={"request_key": uuid.uuid4().hex, "amount": "5",
                                                                         "organisation": world["small"].id, "reason": "r"})
        assert response.status_code == 404, (method, url)
    assert transfers() == 1


def test_with_credits_off_settings_keep_only_the_waiting_list(client, coordinator, world, credits_off):
    html = main_of(client.get("/admin/settings"))
    assert "waitlist_offer_hours" in html and "late_cancellation_policy" not in html and "bands-0-low" not in html
    assert "credit" not in html.lower()
    response = client.post("/admin/settings", data={"waitlist_offer_hours": "12", "late_cancellation_policy": "refund"})
    assert response.status_code == 302
    assert bookings.setting("waitlist_offer_hours") == 12
    assert bookings.setting("late_cancellation_policy") == "forfeit_provider"


def test_wildcards_in_a_search_are_plain_characters(client, coordinator, world):
    assert "No transfers match these filters." in main_of(client.get("/admin/credits/transfers?q=%25"))
    assert "No schools match that search." in main_of(client.get("/admin/credits/grant?q=_"))
    assert "Small Primary" in main_of(client.get("/admin/credits/transfers?q=small"))
