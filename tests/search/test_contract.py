"""One contract for every search engine (parametrised in conftest.py: whoosh, postgres)."""
import pytest

from app import search
from app.extensions import db
from tests.support.html import XSS_CORPUS, dangerous_markup

NEUTRAL = "clerking"  # a category whose name ("Clerking", "Governance") no test query uses


@pytest.fixture
def offer(make_offer):
    def factory(title, description="", category_slug=NEUTRAL, **extra):
        return make_offer(title=title, description=description, summary=extra.pop("summary", ""),
                          category_slug=category_slug, terms=extra.pop("terms", {"phase": ["primary"]}), **extra)

    return factory


def offer_ids(query, **kwargs):
    result = search.search(query, kinds=("offer",), **kwargs)
    assert result.error is None and not result.fallback, result
    return result.ids["offer"]


def test_english_stemming_matches_other_forms_of_a_word(offer):
    teach = offer("Teach reading through play", "Sessions for reception classes.")
    offer("Bookkeeping basics", "Ledgers and budgets.")
    assert offer_ids("teaching") == [teach.id]
    assert offer_ids("teaches") == [teach.id]
    assert offer_ids("Reading") == [teach.id]


def test_a_quoted_phrase_needs_its_words_together_and_in_order(offer):
    together = offer("Training for teaching assistants", "Half-day course.")
    apart = offer("Assistants to the head", "Teaching timetables for the whole staff.")
    assert set(offer_ids("teaching assistants")) == {together.id, apart.id}
    assert offer_ids('"teaching assistants"') == [together.id]


def test_or_widens_and_plain_words_narrow(offer):
    phonics = offer("Phonics catch-up", "Small groups.")
    numeracy = offer("Numeracy catch-up", "Small groups.")
    offer("Governor induction", "For new governors.")
    assert set(offer_ids("phonics OR numeracy")) == {phonics.id, numeracy.id}
    assert offer_ids("phonics numeracy") == []
    assert set(offer_ids("catch-up")) == {phonics.id, numeracy.id}


def test_a_minus_leaves_documents_out(offer):
    phonics = offer("Reading recovery with phonics", "Early reading.")
    comprehension = offer("Reading for meaning", "Comprehension strategies.")
    assert set(offer_ids("reading")) == {phonics.id, comprehension.id}
    assert offer_ids("reading -phonics") == [comprehension.id]
    assert offer_ids('reading -"reading recovery"') == [comprehension.id]
    assert offer_ids("reading NOT phonics") == [comprehension.id]
    # Only exclusions: nothing to look for, so nothing found (not "everything else").
    assert offer_ids("-phonics") == []


@pytest.mark.parametrize("typed, meant", [("phonix", "phonics"), ("mentorng", "mentoring"), ("mentroing", "mentoring")])
def test_a_misspelt_word_still_finds_the_document_and_suggests_the_spelling(offer, typed, meant):
    phonics = offer("Phonics for reception", "Letters and sounds.")
    mentoring = offer("Mentoring new teachers", "Weekly mentoring meetings.")
    offer("Governor induction", "For new governors.")
    result = search.search(typed, kinds=("offer",))
    assert result.suggestion == meant
    assert result.ids["offer"] == [phonics.id if meant == "phonics" else mentoring.id]


def test_the_suggestion_keeps_the_rest_of_the_query(offer):
    phonics = offer("Phonics for reception", "Letters and sounds.")
    offer("Phonics for year two", "Spelling.")
    result = search.search('phonix reception -"year two"', kinds=("offer",))
    assert result.suggestion == 'phonics reception -"year two"'
    assert result.ids["offer"] == [phonics.id]


def test_a_correctly_spelt_query_gets_no_suggestion(offer):
    offer("Phonics for reception", "Letters and sounds.")
    result = search.search("phonics", kinds=("offer",))
    assert result.suggestion is None
    assert len(result.ids["offer"]) == 1
    # A word nothing resembles: no results and no made-up suggestion.
    nothing = search.search("xylophonequartz", kinds=("offer",))
    assert nothing.ids["offer"] == [] and nothing.suggestion is None and nothing.error is None


def test_a_title_match_outranks_a_description_match(offer):
    described = offer("Weekly drop-in", "Coaching, coaching and more coaching for middle leaders.")
    titled = offer("Coaching clinic", "Weekly drop-in for middle leaders.")
    assert offer_ids("coaching") == [titled.id, described.id]


def test_a_category_or_subject_match_outranks_a_description_match(offer):
    described = offer("Weekly drop-in", "Moderation of writing, with moderation samples.")
    categorised = offer("Weekly drop-in too", "Samples of writing.", category_slug="moderation")
    assert offer_ids("moderation") == [categorised.id, described.id]
    subject = offer("Termly network", "Bring samples.", terms={"phase": ["primary"], "subject": ["geography"]})
    mentioned = offer("Termly network too", "Geography samples and more geography.")
    assert offer_ids("geography") == [subject.id, mentioned.id]


def test_every_kind_is_searched_and_kinds_narrow_the_search(make_org, make_offer, make_expert, make_request):
    hub = make_org(name="Severn Oracy Hub", summary="Speaking and listening across the county.")
    offer = make_offer(title="Oracy in the early years", category_slug=NEUTRAL, summary="", description="")
    expert = make_expert(name="Ada Oracy-Jones", headline="Oracy lead", bio="Talk for learning.")
    request = make_request(title="Help with oracy in key stage 2", description="We want pupils to talk more.")
    result = search.search("oracy")
    assert result.ids == {"offer": [offer.id], "organisation": [hub.id], "expert": [expert.id], "request": [request.id]}
    assert search.search("oracy", kinds=("expert", "organisation")).ids == {"organisation": [hub.id], "expert": [expert.id]}
    assert search.search("oracy", kinds="request").ids == {"request": [request.id]}
    assert search.search("oracy", kinds=("nonsense",)).ids == {}


def test_only_searchable_rows_come_back(make_offer, make_expert, make_request, make_school):
    published = make_offer(title="Oracy published", category_slug=NEUTRAL)
    for status in ("draft", "paused", "archived"):
        make_offer(title=f"Oracy {status}", status=status, category_slug=NEUTRAL)
    make_expert(name="Hidden Oracy Expert", headline="Oracy", public=False)
    make_request(title="Oracy draft request", status="draft")
    make_request(title="Oracy closed request", status="closed")
    closed = make_school(name="Oracy Closed Primary")
    closed.school.status = "closed"
    open_school = make_school(name="Oracy Open Primary")
    db.session.commit()
    result = search.search("oracy")
    assert result.ids["offer"] == [published.id]
    assert result.ids["organisation"] == [open_school.id]
    assert result.ids["expert"] == [] and result.ids["request"] == []


def test_coordinator_only_requests_reach_only_coordinators_and_their_school(make_request, make_user, make_school):
    asking = make_school()
    open_to_all = make_request(title="Oracy help for all", organisation=asking)
    private = make_request(title="Oracy help, coordinators only", visibility="coordinators", organisation=asking)
    member = make_user(role="teacher")
    coordinator = make_user(role="coordinator")
    own_lead = make_user(role="school_lead", organisation=asking)
    assert search.search("oracy", viewer=member).ids["request"] == [open_to_all.id]
    assert set(search.search("oracy", viewer=coordinator).ids["request"]) == {open_to_all.id, private.id}
    assert set(search.search("oracy", viewer=own_lead).ids["request"]) == {open_to_all.id, private.id}
    assert search.search("oracy", viewer=None).ids["request"] == []  # visitors see no requests
    for_member = search.search("coordinators", viewer=member)
    assert for_member.ids["request"] == [] and not any(key[0] == "request" for key in for_member.snippets)
    # Without a viewer the caller applies visibility in its own SQL (and gets every published one).
    assert set(search.search("oracy").ids["request"]) == {open_to_all.id, private.id}


def test_snippets_mark_the_words_found_and_escape_everything_else(offer):
    text = 'Fish & chips, "quoted", x<y and <b>bold</b>: use phonics daily. ' + " ".join(XSS_CORPUS) + " Phonics again."
    found = offer("Daily practice", text)
    result = search.search("phonics", kinds=("offer",))
    snippet = result.snippets[("offer", found.id)]
    assert "<mark>phonics</mark>" in snippet
    assert "Fish &amp; chips" in snippet and "x&lt;y" in snippet
    assert dangerous_markup(snippet) == []
    # The only tags in a snippet are the marks.
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    for payload in XSS_CORPUS:
        hostile = offer("Hostile " + payload, payload + " phonics " + payload)
        snippet = search.search("phonics hostile", kinds=("offer",)).snippets[("offer", hostile.id)]
        assert dangerous_markup(snippet) == []
        assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippets_highlight_stemmed_and_corrected_words(offer):
    found = offer("Weekly practice", "Children practise their teaching of phonics to parents.")
    teach = search.search("teach", kinds=("offer",))
    assert "<mark>teaching</mark>" in teach.snippets[("offer", found.id)]
    typo = search.search("phonix", kinds=("offer",))
    assert "<mark>phonics</mark>" in typo.snippets[("offer", found.id)]


def test_an_updated_document_is_found_once_with_its_new_text(offer):
    changing = offer("Weekly drop-in", "Spelling.")
    assert offer_ids("spelling") == [changing.id]
    for text in ("Spelling and phonics.", "Spelling, phonics and handwriting."):
        changing.description = text
        db.session.commit()
        assert offer_ids("spelling") == [changing.id]
        assert offer_ids("phonics") == [changing.id]
    assert offer_ids("handwriting") == [changing.id]


ODD_INPUTS = [
    "", " ", "\t\n", "!!!", "?*:^~()[]{}", '"', '"unbalanced', 'un"balanced', '""', "-", "--", "- -",
    "AND OR NOT", "OR", "NOT", "AND", "a OR OR b", "title:phonics", "phon*", "phonics~2", "field:[a TO z]",
    "'; DROP TABLE offers; --", "1' OR '1'='1", "%", "_", "\\", "\\\\%_", "phonics\x00", "\x00",
    "ph\x00onics", "é", "日本語の検索", "emoji 🙂 phonics", "\u202eevil", "\ud800", "a" * 2048,
    "<script>alert(1)</script>", "phonics & | ! :", "((((((", "!!!phonics", "-\"phonics\"", "* OR *",
    "the", "the and of", "NOT NOT NOT phonics",
]


@pytest.mark.parametrize("query", ODD_INPUTS)
def test_no_input_however_odd_raises_or_errors(offer, query):
    offer("Phonics catch-up", "Small groups.")
    result = search.search(query)
    assert result.error is None
    assert not result.fallback
    assert set(result.ids) == {"offer", "organisation", "expert", "request"}


@pytest.mark.parametrize("query", [b"phonics", None, 42, ["phonics"], object()])
def test_values_that_are_not_text_do_not_raise(offer, query):
    offer("Phonics catch-up", "Small groups.")
    result = search.search(query)
    assert result.error is None


def test_nul_bytes_are_ignored_rather_than_sent_to_the_engine(offer):
    found = offer("Phonics catch-up", "Small groups.")
    assert offer_ids("phonics\x00") == [found.id]
    assert offer_ids("\x00phonics\x00 catch") == [found.id]


def test_a_query_over_2_kb_is_refused_politely(offer):
    offer("Phonics catch-up", "Small groups.")
    just_fits = search.search("phonics " + "x" * (search.MAX_QUERY_BYTES - len("phonics ")))
    assert just_fits.error is None
    refused = search.search("phonics " + "x" * (search.MAX_QUERY_BYTES - len("phonics ") + 1))
    assert refused.error and "too long" in refused.error
    assert refused.ids == {"offer": [], "organisation": [], "expert": [], "request": []}
    # Bytes, not characters: 683 three-byte characters are 2,049 bytes.
    assert search.search("検" * 683).error
    assert search.search("検" * 682).error is None


def test_limit_bounds_each_kind(offer):
    for n in range(5):
        offer(f"Phonics group {n}", "Phonics.")
    assert len(offer_ids("phonics", limit=3)) == 3
    assert len(offer_ids("phonics", limit="junk")) == 5
    assert len(offer_ids("phonics", limit=0)) == 1


def test_an_empty_index_answers_every_query(app):
    for query in ("phonix", "phonics", '"teaching assistants" -maths', "a OR b"):
        result = search.search(query)
        assert result.error is None and not result.fallback and result.total == 0 and result.suggestion is None
    assert search.check()["state"] == "ok"
