"""Content pages come from content/*.md with front matter."""
import pytest

from app.services.content import all_pages

REQUIRED = ["about", "how-credits-work", "guidance-for-providers", "privacy", "accessibility"]


@pytest.mark.parametrize("slug", REQUIRED)
def test_each_required_page_renders_with_its_title(client, slug):
    page = next(p for p in all_pages() if p.slug == slug)
    response = client.get(f"/pages/{slug}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f"<h1>{page.title}</h1>" in body
    assert "---" not in body.split("<article", 1)[1][:200]  # front matter is not shown


def test_pages_are_ordered_by_front_matter(client):
    orders = [p.order for p in all_pages()]
    assert orders == sorted(orders)
    body = client.get("/pages/").get_data(as_text=True)
    assert body.index("About Waymark") < body.index("Privacy notice")


def test_navigation_shows_only_pages_marked_for_it(client):
    nav = client.get("/").get_data(as_text=True).split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    assert "/pages/about" in nav
    assert "/pages/how-credits-work" in nav
    assert "/pages/privacy" not in nav


def test_unknown_page_is_404(client):
    assert client.get("/pages/nope").status_code == 404
    assert client.get("/pages/..%2Fapp").status_code == 404
