"""Which apps contain a search's text: the predicate, and on PostgreSQL its exact candidates.

A search keeps the apps whose lower-cased title or description contains the lower-cased
text, literally (:func:`contains`), on both backends. On PostgreSQL a text of letters a-z and
digits alone lies, wherever it occurs, inside one of the app's words (cut at every other
character), so the apps holding one of the vocabulary's words that contain it are exactly
the apps that match (migration 0006). :func:`word_candidates` gives that condition; the
predicate is still checked on them, which costs little as they are the matches themselves.
:func:`words_serve` says whether they serve a search.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, func, literal, or_, select
from sqlalchemy.orm import Session

from appstore.models import App, CatalogueWord

#: Vocabulary words a search may stand for and still be looked up by its words: the GIN
#: index checks each app it gives against every word looked up, so beyond about this many
#: the trigram indexes answer sooner (bench/catalogue.py): such a search matches many apps
#: (at 100,000 apps of word-like text, thousands or more).
MAX_WORDS = 100
#: What a word of ``catalogue_words()`` is made of; a search of these alone is within one.
WORD = re.compile(r"[a-z0-9]+")
#: Stands in ``catalogue_words()`` for a word too long to index: such apps are always
#: candidates.
LONG_WORD = "*"


def contains(columns, pattern: str) -> ColumnElement[bool]:
    """``lower(title) LIKE '%pattern%' OR lower(description) LIKE ...``, escaped, literal.

    Args:
        columns: ``App`` or the columns of a subquery of apps (``.c``).
        pattern: the search, lower-cased.
    """
    return or_(
        func.lower(columns.title).contains(pattern, autoescape=True),
        func.lower(columns.description).contains(pattern, autoescape=True),
    )


def words_serve(session: Session, pattern: str) -> bool:
    """Whether the apps' words serve a search for ``pattern``: on PostgreSQL, for letters
    a-z and digits alone, contained in at most ``MAX_WORDS`` words of the vocabulary."""
    if session.get_bind().dialect.name != "postgresql" or not WORD.fullmatch(pattern):
        return False
    words = select(CatalogueWord.word).where(CatalogueWord.word.contains(pattern, autoescape=True))
    found = select(func.count()).select_from(words.limit(MAX_WORDS + 1).subquery())
    return session.scalar(found) <= MAX_WORDS


def word_candidates(pattern: str) -> ColumnElement[bool]:
    """The apps holding a word that contains ``pattern`` (letters and digits), or a word
    too long to index.

    The words are looked up inside the statement that uses them, not passed as values: the
    planner, seeing a common word, would expect most apps and scan them all, computing every
    app's words.
    """
    looked_up = select(func.array_agg(CatalogueWord.word)).where(
        CatalogueWord.word.contains(pattern, autoescape=True)
    )
    wanted = func.array_append(looked_up.scalar_subquery(), literal(LONG_WORD))
    return func.catalogue_words(App.title, App.description).op("&&")(wanted)
