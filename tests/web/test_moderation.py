"""Feedback moderation at /admin/moderation: coordinators only; hiding and restoring need a reason,
are recorded, change what each role sees and the offer's figures; refusals change nothing."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Feedback, ModerationEvent
from app.services import feedback as service
from tests.web.test_feedback import HTMX, delivered, left, text_of, visible_text


@pytest.fixture
def world(make_school, make_user, make_offer):
    from tests.support.booking_world import build_world

    return build_world(make_school, make_user, make_offer)


@pytest.fixture
def item(world):
    return left(world, delivered(world))


def events() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ModerationEvent))


def fresh(item) -> Feedback:
    db.session.expire_all()
    return db.session.get(Feedback, item.id)


def hide(client, item, reason="Names a member of staff.", show="reported", headers=None):
    return client.post(f"/admin/moderation/{item.id}/hide",
                       data={f"hide-{item.id}-reason": reason, f"hide-{item.id}-show": show}, headers=headers or {})


def unhide(client, item, reason="Checked with the school: it is fair.", show="hidden", headers=None):
    return client.post(f"/admin/moderation/{item.id}/unhide",
                       data={f"unhide-{item.id}-reason": reason, f"unhide-{item.id}-show": show}, headers=headers or {})


def offer_figures(client, world) -> str:
    text = visible_text(text_of(client.get(f"/offers/{world['offer'].id}")))
    return text.split("Feedback from schools", 1)[1].split("Details", 1)[0]


# --- who may moderate -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "governor", "lead", "provider_lead", "other_lead"])
def test_only_coordinators_moderate(client, login, world, item, who):
    login(world[who])
    assert client.get("/admin/moderation").status_code == 403
    assert hide(client, item).status_code == 403
    assert fresh(item).hidden_at is None
    service.hide(world["coordinator"], item.id, "Off topic.")
    db.session.commit()
    assert unhide(client, item).status_code == 403
    assert fresh(item).hidden_at is not None
    assert events() == 1


def test_visitors_are_sent_to_sign_in(client, world, item):
    for response in (client.get("/admin/moderation"), hide(client, item), unhide(client, item)):
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert fresh(item).hidden_at is None and events() == 0


def test_admins_moderate_too(client, login_as, world, item):
    login_as("admin")
    assert client.get("/admin/moderation?show=all").status_code == 200
    assert hide(client, item).status_code == 303
    assert fresh(item).hidden_at is not None


def test_the_admin_index_links_to_moderation(client, login, world):
    login(world["coordinator"])
    assert 'href="/admin/moderation"' in text_of(client.get("/admin/"))


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_shows_reported_hidden_and_all(client, login, world, item, make_offer):
    quiet = left(world, delivered(world, session=make_offer(organisation=world["provider"], sessions=1).sessions[0]),
                 comment="Another school's view, long enough to count as specific feedback for the test.")
    service.reply(world["provider_lead"], item.id, "We *disagree* with this.")
    service.report(world["provider_lead"], item.id, "This is about a different course.")
    db.session.commit()
    login(world["coordinator"])

    page = text_of(client.get("/admin/moderation"))
    text = visible_text(page)
    assert "Reported (1)" in text and "Hidden (0)" in text and "All feedback (2)" in text
    assert 'href="/admin/moderation?show=reported" aria-current="page"' in page
    assert f'id="moderation-{item.id}"' in page and f'id="moderation-{quiet.id}"' not in page
    for expected in ("Phonics in practice", "Provider Provider School", "Receiving school Buyer School",
                     "Written by Lee Lead", "Objectives met Yes", "Quality 4 out of 5",
                     "decoding checks rose", "Reply from Provider School", "Reported by the provider",
                     "This is about a different course."):
        assert expected in text, expected
    assert "<em>disagree</em>" in page
    assert f'action="/admin/moderation/{item.id}/hide"' in page
    assert f'action="/admin/moderation/{item.id}/unhide"' in page  # keep it visible: dismiss the report
    assert "Keep visible" in text

    page = text_of(client.get("/admin/moderation?show=all"))
    assert f'id="moderation-{item.id}"' in page and f'id="moderation-{quiet.id}"' in page
    assert f'action="/admin/moderation/{quiet.id}/unhide"' not in page  # neither hidden nor reported

    assert "No feedback is hidden." in text_of(client.get("/admin/moderation?show=hidden"))
    # Junk in the address means the default view.
    assert "Reported (1)" in visible_text(text_of(client.get("/admin/moderation?show=<x>")))


def test_an_empty_queue_says_so(client, login, world):
    login(world["coordinator"])
    assert "Nothing is waiting: no feedback has been reported." in text_of(client.get("/admin/moderation"))


# --- hiding and restoring ----------------------------------------------------------------------------


def test_hiding_and_restoring_change_the_figures_and_who_sees_it(client, login, world, item):
    login(world["other_teacher"])
    before = offer_figures(client, world)
    assert "1 review" in before and "decoding checks rose" in before

    login(world["coordinator"])
    response = hide(client, item, show="all")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/moderation?show=all#moderation-{item.id}"
    assert "Hidden: it no longer counts in the figures" in visible_text(text_of(client.get("/admin/moderation?show=hidden")))
    assert fresh(item).hidden_reason == "Names a member of staff." and events() == 1

    login(world["other_teacher"])
    hidden = offer_figures(client, world)
    assert "No feedback yet." in hidden and "decoding checks" not in hidden
    login(world["lead"])
    assert "Hidden by a coordinator: Names a member of staff." in offer_figures(client, world)
    login(world["provider_teacher"])
    assert "Hidden by a coordinator: Names a member of staff." in offer_figures(client, world)

    login(world["coordinator"])
    page = visible_text(text_of(client.get("/admin/moderation?show=hidden")))
    assert "Hidden (1)" in page and "Moderation history" in page
    assert "Hidden by Cora Coordinator" in page and "Names a member of staff." in page
    assert unhide(client, item).status_code == 303
    assert fresh(item).hidden_at is None and events() == 2
    page = visible_text(text_of(client.get("/admin/moderation?show=all")))
    assert "Restored or kept visible by Cora Coordinator" in page and "Checked with the school: it is fair." in page

    login(world["other_teacher"])
    after = offer_figures(client, world)
    assert "1 review" in after and "decoding checks rose" in after and "Hidden by" not in after
    assert after == before


def test_a_reason_is_required(client, login, world, item):
    login(world["coordinator"])
    response = hide(client, item, reason="   ")
    assert response.status_code == 200
    page = text_of(response)
    assert "There is a problem" in page
    assert "Give a reason: the school that wrote it and the provider see it" in page
    assert f'id="hide-{item.id}-reason"' in page and 'aria-invalid="true"' in page
    assert fresh(item).hidden_at is None and events() == 0

    service.hide(world["coordinator"], item.id, "Off topic.")
    db.session.commit()
    response = unhide(client, item, reason="")
    assert response.status_code == 200
    assert "Give a reason" in text_of(response)
    assert fresh(item).hidden_at is not None and events() == 1


def test_a_too_long_reason_is_refused(client, login, world, item):
    login(world["coordinator"])
    response = hide(client, item, reason="x" * (service.REASON_MAX + 1))
    assert response.status_code == 200
    assert f"The reason must be {service.REASON_MAX:,} characters or fewer" in text_of(response)
    assert fresh(item).hidden_at is None


def test_a_failed_form_stays_in_view_on_a_tab_it_is_not_on(client, login, world, item):
    # Sent from the "reported" tab for an item that is not reported: the error is still shown with it.
    login(world["coordinator"])
    page = text_of(hide(client, item, reason="", show="reported"))
    assert f'id="moderation-{item.id}"' in page and "Give a reason" in page


def test_deciding_twice_is_a_conflict_that_changes_nothing(client, login, world, item):
    login(world["coordinator"])
    assert hide(client, item).status_code == 303
    again = hide(client, item, reason="Again.")
    assert again.status_code == 303 and again.headers["Location"] == "/admin/moderation?show=reported"
    assert "already hidden" in visible_text(text_of(client.get("/admin/moderation")))
    assert fresh(item).hidden_reason == "Names a member of staff." and events() == 1
    assert unhide(client, item).status_code == 303
    assert unhide(client, item).status_code == 303  # nothing left to restore
    assert "nothing to restore" in visible_text(text_of(client.get("/admin/moderation")))
    assert events() == 2


def test_keeping_a_reported_item_dismisses_the_report(client, login, world, item):
    service.report(world["provider_lead"], item.id, "We disagree.")
    db.session.commit()
    login(world["coordinator"])
    assert unhide(client, item, show="reported").status_code == 303
    assert fresh(item).reported_at is None and fresh(item).hidden_at is None
    assert "Reported (0)" in visible_text(text_of(client.get("/admin/moderation")))


@pytest.mark.parametrize("feedback_id", [999, 2**63, 2**70])
def test_unknown_feedback_is_not_found(client, login, world, feedback_id):
    login(world["coordinator"])
    response = client.post(f"/admin/moderation/{feedback_id}/hide", data={f"hide-{feedback_id}-reason": "x"})
    assert response.status_code == 404


def test_htmx_swaps_the_item_in_place(client, login, world, item):
    login(world["coordinator"])
    bad = hide(client, item, reason="", headers=HTMX)
    assert bad.status_code == 200
    assert text_of(bad).lstrip().startswith(f'<article id="moderation-{item.id}"')
    assert "Give a reason" in text_of(bad)
    good = hide(client, item, headers=HTMX)
    page = text_of(good)
    assert good.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith(f'<article id="moderation-{item.id}"')
    text = visible_text(page)
    assert "Hidden: it no longer counts" in text and "Hidden by a coordinator: Names a member of staff." in text
    assert f'action="/admin/moderation/{item.id}/unhide"' in page
    assert f'action="/admin/moderation/{item.id}/hide"' not in page


def test_report_and_moderation_reasons_are_shown_as_text(client, login, world, item):
    service.report(world["provider_lead"], item.id, '<script>alert(1)</script><img src=x onerror=alert(1)>')
    db.session.commit()
    login(world["coordinator"])
    page = text_of(client.get("/admin/moderation"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    hide(client, item, reason='<img src=x onerror=alert(1)>')
    for who in ("coordinator", "lead", "provider_lead"):
        login(world[who])
        for url in ("/admin/moderation?show=hidden", f"/offers/{world['offer'].id}"):
            html = text_of(client.get(url))
            assert "<img src=x" not in html
