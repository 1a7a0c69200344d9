"""The one |md filter never lets user Markdown run script or fire htmx requests."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.web.markdown import render_user_markdown
from tests.support.html import XSS_CORPUS, dangerous_markup


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_corpus_is_neutralised(payload):
    html = str(render_user_markdown(payload))
    assert dangerous_markup(html) == [], html


def test_ordinary_markdown_survives():
    html = str(render_user_markdown("**Phonics** with [our hub](https://hub.example.test)\n\n- one\n- two"))
    assert "<strong>Phonics</strong>" in html
    assert 'href="https://hub.example.test"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<li>one</li>" in html


def test_empty_text_renders_nothing():
    assert str(render_user_markdown(None)) == ""
    assert str(render_user_markdown("")) == ""


_fragments = st.sampled_from(
    ["<", ">", "script", "hx-get", "data-hx-post", "=", '"', "'", "javascript:", "on", "error", "load",
     "[", "]", "(", ")", "img", "svg", "a href", " ", "\n", "`", "*", "div", "trigger", "&#106;"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_fragments, st.text(max_size=5)), max_size=40).map("".join))
def test_no_generated_text_produces_dangerous_markup(text):
    assert dangerous_markup(str(render_user_markdown(text))) == []
