"""Judge rendered HTML by parsing it, not by searching strings."""
from html.parser import HTMLParser

# Payloads that a user might put in any Markdown field. Each must come out harmless.
XSS_CORPUS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "<img src=x onerror=alert(1)>",
    '<div hx-post="/admin/users/1/role" hx-trigger="load">hi</div>',
    '<span data-hx-post="/x" data-hx-trigger="load">x</span>',
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.test"></iframe>',
    '<form action="/auth/logout" method="post"><button>x</button></form>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="#" onclick="alert(1)">x</a>',
    "![x](javascript:alert(1))",
    '<details open ontoggle="alert(1)">x</details>',
]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.depth_in_user_content = 0
        self._stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "form", "style"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            name = (name or "").lower()
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name.startswith("hx-") or name.startswith("data-hx-"):
                self.problems.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "formaction") and value.replace(" ", "").startswith(("javascript:", "data:text", "vbscript:")):
                self.problems.append(f"{tag}[{name}={value}]")
            if name == "style":
                self.problems.append(f"{tag}[style]")


def dangerous_markup(html: str) -> list[str]:
    """Everything in a fragment of user content that could run script or fire requests."""
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser.problems


def user_content_blocks(page_html: str) -> list[str]:
    """The inner HTML of every .user-content container on a page (checked for hx-disable too)."""
    blocks: list[str] = []

    class Finder(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=False)
            self.capturing = 0
            self.current: list[str] = []

        def handle_starttag(self, tag, attrs):
            attrs_d = dict(attrs)
            if self.capturing:
                self.capturing += 1
                self.current.append(self.get_starttag_text())
            elif "user-content" in (attrs_d.get("class") or "").split():
                assert "hx-disable" in attrs_d, "user content must sit inside an hx-disable container"
                self.capturing = 1
                self.current = []

        def handle_endtag(self, tag):
            if self.capturing:
                self.capturing -= 1
                if self.capturing == 0:
                    blocks.append("".join(self.current))
                else:
                    self.current.append(f"</{tag}>")

        def handle_data(self, data):
            if self.capturing:
                self.current.append(data)

    Finder().feed(page_html)
    return blocks
