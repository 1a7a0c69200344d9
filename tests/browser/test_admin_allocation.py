"""The coordinator runs the yearly allocation in Chromium (preview, then post), and a school's
credits page shows it; axe-core checks every page on the way."""
import re

import pytest
from playwright.sync_api import expect

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config():
    # The browser sends real forms: keep CSRF protection on, as in production.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def partnership(make_school, make_user):
    schools = {
        "small": make_school(name="Ashcombe Primary School", pupils=90),
        "middle": make_school(name="Brookfield Primary School", pupils=230),
        "big": make_school(name="Castleton High School", pupils=1200, phase="secondary"),
    }
    coordinator = make_user(role="coordinator", email="coordinator@partnership.test", password=PASSWORD, name="Cora Ordinator")
    lead = make_user(role="school_lead", organisation=schools["middle"], email="lead@brookfield.test", password=PASSWORD)
    return {**schools, "coordinator": coordinator, "lead": lead}


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_coordinator_runs_the_yearly_allocation_and_the_school_sees_it(page, live_server, check, partnership):
    sign_in(page, live_server, "coordinator@partnership.test")
    page.goto(f"{live_server}/admin/credits")
    expect(page.get_by_role("heading", level=1)).to_have_text("Credits")
    check.accessible("credits dashboard")

    page.get_by_role("link", name="Yearly allocation", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yearly allocation")
    check.accessible("allocation form")

    page.get_by_label("School year").fill("2026-27")
    page.get_by_role("button", name="Preview the allocation").click()
    expect(page.get_by_role("heading", name="Preview for 2026-27")).to_be_visible()
    table = page.locator("table.allocation-table")
    expect(table.get_by_role("row", name=re.compile("Ashcombe Primary School"))).to_contain_text("10")
    expect(table.get_by_role("row", name=re.compile("Brookfield Primary School"))).to_contain_text("20")
    expect(table.get_by_role("row", name=re.compile("Castleton High School"))).to_contain_text("40")
    check.accessible("allocation preview")

    page.get_by_role("button", name="Post allocation: 70 credits to 3 schools").click()
    expect(page.get_by_text("Allocated 70 credits to 3 schools for 2026-27.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Post allocation"))).to_have_count(0)
    expect(table.get_by_role("row", name=re.compile("Brookfield Primary School"))).to_contain_text("Already allocated: 20")
    check.accessible("allocation posted")

    # The coordinator looks at one school's credits as the school sees them.
    page.goto(f"{live_server}/credits")
    check.accessible("credits chooser")
    page.get_by_label("Show the credits of").select_option(label="Brookfield Primary School")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brookfield Primary School: credits")
    statement = page.locator("table.statement-table")
    expect(statement.get_by_role("row", name=re.compile("Yearly allocation"))).to_contain_text("20")
    check.accessible("a school's credits, seen by the coordinator")

    # And the school's lead sees the same, with the badge in the header.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "lead@brookfield.test")
    expect(page.locator("#credits-badge")).to_contain_text("20 credits")
    page.locator("#credits-badge a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brookfield Primary School: credits")
    expect(page.locator("table.statement-table")).to_contain_text("Yearly allocation 2026-27")
    check.accessible("the school's own credits page")

    # Filtering by kind swaps the statement in place (htmx) and keeps the balances.
    with page.expect_response(lambda r: "/credits?" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Held for a booking").check()
    expect(page.get_by_text("No entries match these filters.")).to_be_visible()
    check.accessible("statement filtered")


def test_every_credit_tool_page_passes_axe_and_the_grant_search_keeps_ticks(page, live_server, check, partnership):
    from app.extensions import db
    from app.services import ledger

    ledger.issue(partnership["coordinator"], kind="grant", organisation_id=partnership["small"].id, amount=5,
                 key="seed", reason="Seed credits")
    db.session.commit()
    sign_in(page, live_server, "coordinator@partnership.test")
    for path, label in [("/admin/credits", "dashboard"), ("/admin/credits/purchase", "purchase"),
                        ("/admin/credits/adjustment", "adjustment"), ("/admin/credits/transfers", "transfers"),
                        ("/admin/settings", "settings")]:
        page.goto(f"{live_server}{path}")
        check.accessible(label)

    # A bad purchase comes back with its messages.
    page.goto(f"{live_server}/admin/credits/purchase")
    page.get_by_label("Credits bought").fill("0")
    page.get_by_role("button", name="Record the purchase").click()
    expect(page.locator(".error-summary")).to_contain_text("Enter the invoice reference.")
    check.accessible("purchase with errors")

    # Seed credits: tick a school, search for another; the first stays ticked.
    page.goto(f"{live_server}/admin/credits/grant")
    check.accessible("grant")
    page.get_by_label("Ashcombe Primary School").check()
    with page.expect_response(lambda r: "/admin/credits/grant?" in r.url):
        page.get_by_label("Search schools by name").fill("castle")
    expect(page.get_by_label("Castleton High School")).to_be_visible()
    expect(page.get_by_label("Ashcombe Primary School")).to_be_checked()
    expect(page.get_by_label("Brookfield Primary School")).to_have_count(0)
    page.get_by_label("Castleton High School").check()
    page.get_by_label("Credits for each school").fill("4")
    page.get_by_label("Reason").fill("Isolated schools")
    page.get_by_role("button", name="Grant seed credits").click()
    expect(page.get_by_text("Granted 4 seed credits to each of 2 schools (8 in all).")).to_be_visible()

    page.goto(f"{live_server}/admin/credits/transfers")
    page.get_by_role("link", name=re.compile("Reverse transfer #1$")).click()
    check.accessible("reverse")
    page.get_by_label("Reason for the reversal").fill("Given to the wrong school")
    page.get_by_role("button", name="Reverse transfer #1").click()
    expect(page.get_by_text("Transfer #1 is reversed by #4.")).to_be_visible()
    expect(page.get_by_text("Reversed by #4", exact=True)).to_be_visible()
    check.accessible("transfers after a reversal")

    # Settings with a bad band.
    page.goto(f"{live_server}/admin/settings")
    page.get_by_label("Band 2: pupils from").fill("50")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".error-summary")).to_contain_text("inside band 1")
    check.accessible("settings with errors")
