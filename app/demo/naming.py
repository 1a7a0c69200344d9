"""Invented names, slugs and email addresses, each unique within one demo load."""
import random
import re
import unicodedata
from collections.abc import Callable

from app.demo import words


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = ascii_text.lower().replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


class NameBook:
    """Hands out names that never repeat within one load, drawing only from its own Random."""

    # Enough attempts that a clash is practically impossible at national scale, few enough
    # that a broken template fails loudly instead of looping.
    ATTEMPTS = 200

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._names: set[str] = set()
        self._slugs: set[str] = set()
        self._emails: set[str] = set()

    def core(self) -> str:
        """An invented English-sounding place name: 'Teaselford', 'Medlarcombe'."""
        rng = self.rng
        while True:
            stem, ending = rng.choice(words.PLACE_STEMS), rng.choice(words.PLACE_ENDINGS)
            if stem[-1] == ending[0]:
                stem = stem[:-1]  # "Teasel" + "ley" reads better as "Teaseley"
            if stem + ending not in words.REAL_PLACE_NAMES:
                return stem + ending

    def place(self) -> str:
        """A village: usually a bare name, sometimes 'Little Teaselford' or 'Medlarcombe Green'."""
        core, roll = self.core(), self.rng.random()
        if roll < 0.7:
            return core
        if roll < 0.88:
            return self.rng.choice(words.PLACE_PREFIXES) + core
        return core + self.rng.choice(words.PLACE_SUFFIXES)

    def unique(self, make: Callable[[], str]) -> str:
        """Call make() until it returns a name not handed out before, and claim it."""
        for _ in range(self.ATTEMPTS):
            name = make()
            if name not in self._names:
                self.claim(name)
                return name
        raise RuntimeError(f"could not invent a unique name like {name!r}")

    def is_free(self, name: str) -> bool:
        return name not in self._names

    def claim(self, name: str) -> None:
        """Reserve a fixed name (the demo schools) so nothing generated later repeats it."""
        if name in self._names:
            raise ValueError(f"{name!r} is already in use")
        self._names.add(name)

    def numbered(self, base: str) -> str:
        """base, or 'base 2', 'base 3'... for labels that may legitimately repeat."""
        name, n = base, 1
        while name in self._names:
            n += 1
            name = f"{base} {n}"
        self.claim(name)
        return name

    def slug(self, name: str) -> str:
        base = slugify(name)
        slug, n = base, 1
        while slug in self._slugs:
            n += 1
            slug = f"{base}-{n}"
        self._slugs.add(slug)
        return slug

    def email(self, local: str, domain: str) -> str:
        base = slugify(local).replace("-", ".")
        address, n = f"{base}@{domain}", 1
        while address in self._emails:
            n += 1
            address = f"{base}{n}@{domain}"
        self._emails.add(address)
        return address

    def reserve_email(self, address: str) -> None:
        self._emails.add(address)

    def person(self) -> tuple[str, str]:
        return self.rng.choice(words.FIRST_NAMES), self.rng.choice(words.SURNAMES)

    def saint(self) -> str:
        return self.rng.choice(words.SAINTS)
