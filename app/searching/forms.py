"""The search box. A GET form that never rejects input: what cannot be searched is answered
with a message on the page (app.services.search_results), so there is nothing to validate."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, SearchField


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField("What are you looking for?", id="search-q")
    kind = HiddenField(id="search-kind")

    def show(self, page) -> None:
        """Show the words as they were searched (cleaned), and keep a chosen kind."""
        self.q.data = page.q
        self.kind.data = page.kind or ""
