"""/credits for schools: figures, statement (HTML and CSV) with filters, who sees what, the
header badge and its refresh, and the page with credits switched off."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Transfer
from app.models.base import utcnow
from app.services import bookings, credits, ledger

KEY = "d" * 32


@pytest.fixture
def world(make_school, make_user, make_offer):
    buyer = make_school(name="Buyer Primary")
    provider = make_school(name="Provider High")
    other = make_school(name="Other Academy")
    people = {
        "coordinator": make_user(role="coordinator"),
        "lead": make_user(role="school_lead", organisation=buyer),
        "teacher": make_user(role="teacher", organisation=buyer),
        "governor": make_user(role="governor", organisation=buyer),
        "provider_lead": make_user(role="school_lead", organisation=provider),
        "other_lead": make_user(role="school_lead", organisation=other),
    }
    offer = make_offer(organisation=provider, title="Phonics for new teachers", sessions=2, places=10, price_credits=4)
    c = people["coordinator"]
    ledger.issue(c, kind="allocation", organisation_id=buyer.id, amount=30, key="allocation:2026-27:b", reason="Yearly allocation")
    # A figure that appears nowhere in the buyer's history, to spot a leak.
    ledger.issue(c, kind="grant", organisation_id=other.id, amount=7777, key="g-other", reason="Other school's secret grant")
    db.session.commit()
    first = bookings.request_places(people["teacher"], offer.sessions[0].id, 2)
    bookings.confirm(people["lead"], first.id)
    second = bookings.request_places(people["teacher"], offer.sessions[1].id, 1)
    bookings.confirm(people["lead"], second.id)
    db.session.commit()
    bookings.cancel(people["lead"], second.id, "Clash")
    db.session.commit()
    purchase = credits.record_purchase(c, organisation_id=buyer.id, amount=10, invoice_reference="=HYPERLINK(\"x\")",
                                       note="+cmd", form_key=KEY)
    db.session.commit()
    credits.reverse(c, transfer_id=purchase.transfers[0].id, reason="@wrong school", form_key="e" * 32)
    db.session.commit()
    return {"buyer": buyer, "provider": provider, "other": other, "offer": offer, "first": first, **people}


def main_of(response) -> str:
    text = response.get_data(as_text=True)
    return text.split("<main", 1)[1].split("</main>", 1)[0]


def statement_rows(html: str) -> list[tuple[str, str, str, str]]:
    """(kind, in, out, balance) of each statement row in the page."""
    body = html.split('<table class="statement-table">', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        kind = re.search(r'<strong class="statement-kind">(.*?)</strong>', row).group(1)
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        amount, balance = cells[2].replace("&minus;", "-").split(" ")[0], cells[3]
        credits_in, credits_out = (amount[1:], "") if amount.startswith("+") else ("", amount[1:])
        rows.append((kind, credits_in, credits_out, balance))
    return rows


# allocation 30, hold 8, hold 4, release 4, purchase 10, reversal of the purchase.
EXPECTED = [("Reversal", "", "10", "22"), ("Purchase", "10", "", "32"), ("Hold released", "4", "", "22"),
            ("Held for a booking", "", "4", "18"), ("Held for a booking", "", "8", "22"), ("Yearly allocation", "30", "", "30")]


@pytest.mark.parametrize("role", ["lead", "teacher", "governor"])
def test_members_see_their_schools_figures_and_statement(client, login, world, role):
    login(world[role])
    response = client.get("/credits")
    assert response.status_code == 200
    html = main_of(response)
    assert html.count("<h1") == 1 and "Buyer Primary: credits" in html
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert figures["Available to spend"] == "22" and figures["Held for confirmed bookings"] == "8" and figures["Balance"] == "30"
    assert "Overdraft limit" not in figures
    assert statement_rows(html) == EXPECTED
    assert "Held for: " in html
    assert re.search(r"Reversed by #\d+", html)


def test_the_overdraft_limit_is_shown_when_there_is_one(client, login, world):
    ledger.account_for(world["buyer"].id).overdraft_limit = 5
    db.session.commit()
    login(world["lead"])
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", main_of(client.get("/credits"))))
    assert figures["Overdraft limit"] == "5"


def test_held_credits_say_what_they_are_held_for(client, login, world):
    login(world["lead"])
    html = main_of(client.get("/credits"))
    session_day = world["offer"].sessions[0].starts_at
    held = html.split('<ul class="held-list">', 1)[1].split("</ul>", 1)[0]
    assert "Held for: " in held and "Phonics for new teachers" in held
    assert f"{session_day.day} {session_day:%B %Y}" in held and "8 credits" in held
    assert held.count("<li>") == 1  # the cancelled booking's hold was released


def test_the_csv_has_the_same_figures_as_the_page_and_defuses_formulas(client, login, world):
    login(world["lead"])
    page = statement_rows(main_of(client.get("/credits?date_from=&date_to=")))
    response = client.get("/credits/statement.csv?date_from=&date_to=")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="credits-' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["kind"], r["credits_in"], r["credits_out"], r["balance"]) for r in rows] == page
    descriptions = " ".join(r["description"] for r in rows)
    for r in rows:
        for value in r.values():
            assert value[:1] not in ("=", "+", "@") and not (value.startswith("-") and not value.lstrip("-").isdigit())
    assert 'Invoice =HYPERLINK("x")' in descriptions and "secret" not in descriptions


def test_csv_cells_that_start_like_formulas_are_prefixed(app):
    from app.credits.routes import csv_cell

    assert [csv_cell(v) for v in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "plain", -3, 12)] == \
        ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "plain", -3, 12]


def test_a_formula_in_a_reason_is_defused_in_the_csv(client, login, world):
    credits.adjust(world["coordinator"], organisation_id=world["buyer"].id, amount=1, reason="=SUM(1+1)", form_key="f" * 32)
    db.session.commit()
    login(world["lead"])
    rows = list(csv.reader(io.StringIO(client.get("/credits/statement.csv?date_from=").get_data(as_text=True))))
    header, lines = rows[0], rows[1:]
    assert header == ["date", "transfer", "kind", "description", "credits_in", "credits_out", "balance"]
    assert lines[0][2:] == ["Adjustment", "'=SUM(1+1)", "1", "", "23"]
    assert all(not cell.startswith(("=", "+", "@")) for line in lines for cell in line)


def test_filters_by_kind_keep_the_real_balances(client, login, world):
    login(world["lead"])
    html = main_of(client.get("/credits?kind=hold&kind=release&date_from="))
    assert statement_rows(html) == [row for row in EXPECTED if row[0] in ("Hold released", "Held for a booking")]
    rows = list(csv.DictReader(io.StringIO(client.get("/credits/statement.csv?kind=hold&date_from=").get_data(as_text=True))))
    assert [(r["credits_out"], r["balance"]) for r in rows] == [("4", "18"), ("8", "22")]


def test_period_presets_and_dates(client, login, world):
    login(world["lead"])
    today = date.today()
    first_visit = main_of(client.get("/credits"))
    start = credits.school_year_start(today)
    assert f'value="{start.isoformat()}"' in first_visit
    assert re.search(r'aria-current="true">This school year<', first_visit)
    future = main_of(client.get(f"/credits?date_from={(today + timedelta(days=2)).isoformat()}"))
    assert "No entries match these filters." in future
    everything = main_of(client.get("/credits?date_from=&date_to="))
    assert re.search(r'aria-current="true">All<', everything) and len(statement_rows(everything)) == 6


@pytest.mark.parametrize("query", [
    "date_from=yesterday", "date_to=2026-02-31", "date_from=2026-05-01&date_to=2026-01-01",
    "kind=bogus", "page=0", "page=-4", "page=abc", "organisation=abc", "kind=hold&kind=%00",
])
def test_bad_filters_give_a_message_not_an_error(client, login, world, query):
    login(world["lead"])
    response = client.get(f"/credits?{query}")
    assert response.status_code == 200
    assert client.get(f"/credits/statement.csv?{query}").status_code == 200


def test_bad_dates_are_explained(client, login, world):
    login(world["lead"])
    html = main_of(client.get("/credits?date_from=2026-05-01&date_to=2026-01-01"))
    assert "The end date must be on or after the start date." in html
    assert "Enter a date like 2026-09-01." in main_of(client.get("/credits?date_from=tomorrow"))


def test_statement_paging(client, login, world):
    for n in range(55):
        ledger.issue(world["coordinator"], kind="grant", organisation_id=world["buyer"].id, amount=1, key=f"g{n}", reason=f"g{n}")
    db.session.commit()
    login(world["lead"])
    first = main_of(client.get("/credits?date_from="))
    second = main_of(client.get("/credits?date_from=&page=2"))
    assert "page 1 of 2" in first and "page 2 of 2" in second
    assert len(statement_rows(first)) == 50 and len(statement_rows(second)) == 11
    assert statement_rows(first)[0][3] == "77" and statement_rows(second)[-1] == EXPECTED[-1]
    assert 'href="/credits?page=2&amp;date_from=' in first or "page=2" in first


def test_an_htmx_filter_request_gets_only_the_statement(client, login, world):
    login(world["lead"])
    response = client.get("/credits?kind=hold&date_from=", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text and "<h1" not in text
    assert "statement-table" in text and 'hx-swap-oob="innerHTML"' in text and "2 entries" in text
    assert "HX-Request" in response.headers.get("Vary", "")


# --- who sees which school's credits ----------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "teacher", "governor"])
def test_a_school_never_sees_another_schools_credits(client, login, world, role):
    login(world[role])
    other = world["other"].id
    for url in (f"/credits?organisation={other}", f"/credits?organisation={other}&date_from=",
                f"/credits/statement.csv?organisation={other}&date_from=", "/credits/badge"):
        text = client.get(url).get_data(as_text=True)
        assert "7777" not in text and "7,777" not in text and "secret" not in text, url
        assert "Other Academy" not in text, url
    html = main_of(client.get(f"/credits?organisation={other}"))
    assert "Buyer Primary: credits" in html


def test_a_coordinator_can_look_at_any_school(client, login, world):
    login(world["coordinator"])
    chooser = main_of(client.get("/credits"))
    assert "Choose a school or organisation" in chooser and "<select" in chooser
    html = main_of(client.get(f"/credits?organisation={world['other'].id}&date_from="))
    assert "Other Academy: credits" in html and "7,777" in html
    # Filters and the CSV keep the organisation.
    assert f"organisation={world['other'].id}" in html.split("Download as CSV")[0].rsplit("href=", 1)[1]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/credits/statement.csv?organisation={world['other'].id}&date_from=").get_data(as_text=True))))
    assert [r["credits_in"] for r in rows] == ["7777"]
    assert client.get("/credits?organisation=999999").status_code == 404


def test_the_credits_pages_need_a_sign_in(client, world):
    for url in ("/credits", "/credits/statement.csv", "/credits/badge"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_user_without_a_school_is_told_so(client, login, make_user, world):
    user = make_user(role="teacher", organisation=world["buyer"])
    user.organisation_id = None
    db.session.commit()
    login(user)
    response = client.get("/credits")
    assert response.status_code == 200 and "not linked to a school" in main_of(response)
    assert client.get("/credits/statement.csv").status_code == 404
    assert client.get("/credits/badge").status_code == 204


# --- the badge -----------------------------------------------------------------------------------


def badge_of(text: str) -> str:
    match = re.search(r'<span id="credits-badge".*?</span>\s*</span>|<span id="credits-badge".*?</a>\s*</span>', text, re.S)
    return match.group(0) if match else ""


def test_the_header_badge_shows_the_available_balance(client, login, world):
    login(world["teacher"])
    badge = badge_of(client.get("/offers").get_data(as_text=True))
    assert badge, "no badge in the header"
    assert ">22</span> credits" in badge and 'href="/credits"' in badge
    assert 'hx-get="/credits/badge"' in badge and 'hx-trigger="credits-changed from:body"' in badge
    assert 'hx-swap="outerHTML"' in badge


def test_the_badge_refreshes_after_a_change(client, login, world):
    login(world["lead"])
    assert ">22</span>" in client.get("/credits/badge", headers={"HX-Request": "true"}).get_data(as_text=True)
    booking = bookings.request_places(world["teacher"], world["offer"].sessions[1].id, 1)
    bookings.confirm(world["lead"], booking.id)
    db.session.commit()
    response = client.get("/credits/badge", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.strip().startswith("<span id=\"credits-badge\"")
    assert ">18</span> credits" in text and "<html" not in text


def test_the_badge_reads_one_cheap_query(app, client, login, world):
    from sqlalchemy import event

    login(world["teacher"])
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/credits/badge")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    ledger_queries = [s for s in seen if "ledger_" in s]
    assert len(ledger_queries) == 1 and "ledger_accounts" in ledger_queries[0]


def test_no_badge_for_coordinators_without_a_school_or_for_visitors(client, login, world):
    assert 'id="credits-badge"' not in client.get("/offers").get_data(as_text=True)
    login(world["coordinator"])
    assert 'id="credits-badge"' not in client.get("/offers").get_data(as_text=True)


def test_page_queries_stay_constant(client, login, world):
    from sqlalchemy import event

    login(world["lead"])

    def queries_for(url):
        seen = []

        def count(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    before = queries_for("/credits?date_from=")
    for n in range(20):
        ledger.issue(world["coordinator"], kind="grant", organisation_id=world["buyer"].id, amount=4, key=f"q{n}", reason="r")
    for n in range(5):
        b = bookings.request_places(world["teacher"], world["offer"].sessions[1].id, 1)
        bookings.confirm(world["lead"], b.id)
    db.session.commit()
    assert queries_for("/credits?date_from=") == before


# --- credits switched off ------------------------------------------------------------------------


@pytest.fixture
def credits_off(app):
    app.config["CREDITS_ENABLED"] = False
    yield
    app.config["CREDITS_ENABLED"] = True


def test_with_credits_off_the_page_counts_take_up_and_shows_no_figures(client, login, world, credits_off):
    world["offer"].sessions[0].starts_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    bookings.deliver(world["provider_lead"], world["first"].id, attended=2)
    db.session.commit()
    login(world["lead"])
    response = client.get("/credits")
    html = main_of(response)
    assert response.status_code == 200 and "Buyer Primary: take-up" in html
    cells = re.findall(r'<td class="numeric">(\d+)</td>', html)
    assert cells == ["1", "1", "0", "0"]  # received: made, delivered; given: made, delivered
    assert "credit" not in html.lower()
    assert "statement" not in html.lower()
    page = response.get_data(as_text=True)
    assert 'id="credits-badge"' not in page
    assert client.get("/credits/statement.csv").status_code == 404
    assert client.get("/credits/badge").status_code == 204


def test_with_credits_off_the_provider_sees_support_given(client, login, world, credits_off):
    login(world["provider_lead"])
    html = main_of(client.get("/credits"))
    assert "Provider High: take-up" in html
    assert re.findall(r'<td class="numeric">(\d+)</td>', html) == ["0", "0", "1", "0"]


def test_credits_off_from_the_environment(monkeypatch, tmp_path):
    from app import create_app
    from tests.conftest import BASE_CONFIG

    monkeypatch.setenv("WAYMARK_CREDITS", "off")
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["CREDITS_ENABLED"] is False


def test_transfer_count_unchanged_by_reading(client, login, world):
    before = db.session.scalar(select(func.count()).select_from(Transfer))
    login(world["lead"])
    for url in ("/credits", "/credits?date_from=", "/credits/statement.csv", "/credits/badge"):
        client.get(url)
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == before
