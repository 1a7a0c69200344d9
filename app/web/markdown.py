"""The one |md filter: user Markdown rendered, then sanitised by nh3 with an allow-list.

It is the only place that marks user text safe. Whatever Markdown produces (raw HTML in
the source passes through it) is cleaned by nh3, so no script, event handler,
javascript: URL or hx-* attribute survives. Templates wrap the result in an hx-disable
container so htmx never processes anything inside it.
"""
import markdown as _markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "h5", "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_user_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    html = _markdown.markdown(str(text), extensions=["sane_lists"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)
