"""Content pages: trusted Markdown files in content/ with front matter."""
import os
from dataclasses import dataclass
from functools import lru_cache

import frontmatter
import markdown
from markupsafe import Markup

CONTENT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "content")


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    order: int
    in_nav: bool
    nav_label: str
    summary: str
    html: Markup


def _load(path: str) -> Page:
    post = frontmatter.load(path)
    slug = os.path.splitext(os.path.basename(path))[0]
    # Content files are in the repository and reviewed: trusted, so raw HTML is allowed.
    html = markdown.markdown(post.content, extensions=["tables", "sane_lists", "toc"])
    return Page(
        slug=slug,
        title=str(post.get("title", slug.replace("-", " ").title())),
        order=int(post.get("order", 100)),
        in_nav=bool(post.get("nav", False)),
        nav_label=str(post.get("nav_label", post.get("title", slug))),
        summary=str(post.get("summary", "")),
        html=Markup(html),
    )


@lru_cache(maxsize=1)
def _all_pages(directory: str = CONTENT_DIR) -> tuple[Page, ...]:
    if not os.path.isdir(directory):
        return ()
    pages = [_load(os.path.join(directory, name)) for name in sorted(os.listdir(directory)) if name.endswith(".md")]
    return tuple(sorted(pages, key=lambda p: (p.order, p.title)))


def all_pages() -> tuple[Page, ...]:
    return _all_pages()


def nav_pages() -> list[Page]:
    return [page for page in all_pages() if page.in_nav]


def get_page(slug: str) -> Page | None:
    for page in all_pages():
        if page.slug == slug:
            return page
    return None
