"""Which apps contain a search's text: the predicate, and on PostgreSQL its exact candidates.

A search keeps the apps whose lower-cased title or description contains the lower-cased
text, literally (:func:`contains`), on both backends. On PostgreSQL a text of letters a-z and
digits alone lies, wherever it occurs, inside one of the app's words (cut at every other
character), so the apps holding one of the vocabulary's words that contain it are exactly
the apps that match (migration 0006). :func:`word_candidates` gives that condition; the
predicate is still checked on them, which costs little as they are the matches themselves.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, func, literal, or_, select
from sqlalchemy.orm import Session

from appstore.models import App, CatalogueWord

#: Vocabulary words a search may stand for and still be looked up by its words: the GIN
#: index checks each app it gives against every word looked up, so beyond about this many
#: the trigram indexes answer sooner (bench/catalogue.py). Such searches match many apps.
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


def word_candidates(session: Session, pattern: str) -> ColumnElement[bool] | None:
    """The apps holding a word that contains ``pattern``, or None where that cannot serve.

    None on SQLite, for a search with any character but a-z and 0-9, and for one that more
    than ``MAX_WORDS`` words contain. The words are looked up again inside the statement
    that uses them, not passed as values: the planner, seeing a common word, would expect
    most apps and scan them all, computing every app's words.
    """
    if session.get_bind().dialect.name != "postgresql" or not WORD.fullmatch(pattern):
        return None
    words = select(CatalogueWord.word).where(CatalogueWord.word.contains(pattern, autoescape=True))
    if session.scalar(_count(words.limit(MAX_WORDS + 1))) > MAX_WORDS:
        return None
    looked_up = select(func.array_agg(CatalogueWord.word)).where(
        CatalogueWord.word.contains(pattern, autoescape=True)
    )
    wanted = func.array_append(looked_up.scalar_subquery(), literal(LONG_WORD))
    return func.catalogue_words(App.title, App.description).op("&&")(wanted)


def _count(query: Select) -> Select:
    return select(func.count()).select_from(query.subquery())
