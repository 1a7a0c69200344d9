""""Schools like mine": the ranking (same phase, size band, setting and nearness first), what
is never suggested, and the section on a school's directory page."""
import re

from app.extensions import db
from app.services.similar import close_in_size, similar_schools, size_band


def names(results) -> list[str]:
    return [r.organisation.name for r in results]


def school(make_school, name, *, phase="primary", pupils=210, urban_rural="urban", easting=400000, northing=200000, **extra):
    org = make_school(name=name, phase=phase, pupils=pupils, easting=easting, northing=northing, **extra)
    org.school.urban_rural = urban_rural
    db.session.commit()
    return org


def test_same_phase_size_and_setting_nearby_come_first(make_school):
    mine = school(make_school, "Mine Primary", pupils=220, easting=400000, northing=200000)
    twin_near = school(make_school, "Twin Near", pupils=200, easting=401000, northing=200000)  # 1 km
    twin_far = school(make_school, "Twin Far", pupils=230, easting=430000, northing=200000)  # 30 km
    rural = school(make_school, "Rural Twin", pupils=210, urban_rural="rural", easting=401500, northing=200000)
    bigger = school(make_school, "Bigger Near", pupils=420, easting=400500, northing=200000)
    middle = school(make_school, "Middle Near", phase="middle", pupils=210, easting=400800, northing=200000)
    secondary = school(make_school, "Secondary Next Door", phase="secondary", pupils=1100, easting=400100, northing=200000)

    results = similar_schools(mine, limit=10)
    # Likeness outweighs distance: a twin 30 km away beats a bigger school next door.
    assert names(results) == ["Twin Near", "Twin Far", "Bigger Near", "Rural Twin", "Middle Near", "Secondary Next Door"]
    scores = {r.organisation.name: r.score for r in results}
    # Same phase (40), band (25), setting (15), within 5 km (20).
    assert scores["Twin Near"] == 100
    # 420 pupils is the next band (12) and not within a quarter of 220.
    assert scores["Bigger Near"] == 40 + 12 + 15 + 20
    assert scores["Rural Twin"] == 40 + 25 + 0 + 20
    assert scores["Twin Far"] == 40 + 25 + 15 + 8
    # Middle is a neighbouring phase of primary (20); secondary is not.
    assert scores["Middle Near"] == 20 + 25 + 15 + 20
    assert scores["Secondary Next Door"] == 0 + 0 + 15 + 20
    first = results[0]
    assert round(first.km, 1) == 1.0
    assert first.reasons == ["also primary", "similar size (101 to 250 pupils)", "also urban", "1.0 km away"]
    assert twin_near and twin_far and rural and bigger and middle and secondary


def test_at_equal_scores_the_nearer_school_comes_first(make_school):
    mine = school(make_school, "Mine", easting=400000, northing=200000)
    # Both within 5 km, otherwise identical.
    school(make_school, "Three km", easting=403000, northing=200000)
    school(make_school, "One km", easting=400000, northing=201000)
    school(make_school, "Unlocated", easting=None, northing=None)
    results = similar_schools(mine)
    assert names(results) == ["One km", "Three km", "Unlocated"]
    assert results[-1].km is None and results[-1].score == 80


def test_sizes_within_a_quarter_count_as_alike_across_a_band_edge(make_school):
    assert size_band(236) == 1 and size_band(256) == 2
    assert close_in_size(256, 236) and close_in_size(236, 256)
    assert not close_in_size(420, 220) and not close_in_size(None, 200)
    mine = school(make_school, "Mine", pupils=236)
    school(make_school, "Just over the edge", pupils=256, easting=460000)
    school(make_school, "Same band", pupils=110, easting=460000)
    scores = {r.organisation.name: r.score for r in similar_schools(mine)}
    assert scores["Just over the edge"] == scores["Same band"] == 40 + 25 + 15


def test_closed_schools_other_organisations_and_itself_are_never_suggested(make_school, make_org):
    mine = school(make_school, "Mine")
    closed = school(make_school, "Closed Twin")
    closed.school.status = "closed"
    db.session.commit()
    make_org(kind="teaching_school_hub", name="Hub Next Door", easting=400000, northing=200000)
    school(make_school, "Open Twin")
    assert names(similar_schools(mine)) == ["Open Twin"]


def test_not_a_school_has_no_similar_schools_and_limit_is_kept(make_school, make_org):
    hub = make_org(kind="teaching_school_hub", name="A hub")
    school(make_school, "A school")
    assert similar_schools(hub) == []
    mine = school(make_school, "Mine")
    for n in range(5):
        school(make_school, f"Other {n}")
    assert len(similar_schools(mine, limit=3)) == 3
    assert len(similar_schools(mine, limit=0)) == 1


def test_a_school_with_unknown_facts_still_gets_nearby_schools(make_school):
    mine = school(make_school, "Unknown facts", phase=None, pupils=None, urban_rural=None)
    school(make_school, "Near", easting=401000)
    school(make_school, "Far", easting=470000)
    results = similar_schools(mine)
    assert names(results) == ["Near", "Far"]
    assert [r.score for r in results] == [20, 0]


def test_the_school_page_lists_schools_like_it(client, make_school, make_org):
    mine = school(make_school, "Mine Primary", pupils=220)
    school(make_school, "Twin Near", pupils=200, easting=401000)
    school(make_school, "Secondary Far", phase="secondary", pupils=1000, easting=480000)
    html = client.get(f"/directory/{mine.school.urn}").get_data(as_text=True)
    section = re.search(r'<section class="similar-schools" aria-labelledby="similar-heading">(.*?)</section>', html, re.S)
    assert section, "no similar schools section"
    body = section.group(1)
    assert '<h2 id="similar-heading">Schools like this one</h2>' in body
    assert body.index("Twin Near") < body.index("Secondary Far")
    assert "Primary · 200 pupils · Urban · 1.0 km away" in body
    assert "Alike: also primary, similar size (101 to 250 pupils), also urban, 1.0 km away." in body

    hub = make_org(kind="teaching_school_hub", name="Hub")
    assert "similar-heading" not in client.get(f"/directory/{hub.slug}").get_data(as_text=True)
