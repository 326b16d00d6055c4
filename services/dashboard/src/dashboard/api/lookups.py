"""One app or one developer looked up, and the app search behind the page's picker.

Answers come from the counters and facts the fold keeps (:mod:`dashboard.stats.lookups`),
cached under the fold generation like every stats answer.
"""

from __future__ import annotations

from flask.views import MethodView

from dashboard.api.access import components, requires_reader
from dashboard.api.arguments import SearchArgs
from dashboard.api.encoding import json_response
from dashboard.api.schemas import AppLookupSchema, DeveloperLookupSchema, FoundAppSchema
from dashboard.stats import answers
from dashboard.stats.scope import Scope
from servicekit.api import Blueprint

blp = Blueprint(
    "lookups",
    __name__,
    url_prefix="/api/v1",
    description="One app or developer of the Dashboard's figures, and finding apps; roles "
    "management and admin.",
)

NOT_KNOWN = "The dashboard has folded no event about it."


@blp.route("/apps/<int:app_id>")
class AppLookup(MethodView):
    @requires_reader(blp)
    @blp.response(200, AppLookupSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description=NOT_KNOWN)
    def get(self, app_id: int):
        """One app as the Dashboard knows it: title, owner, price history, all-time figures.

        The title and price are the latest the events set (`AppCreated`, then each
        `AppUpdated`); `prices` lists every price with the moment it was set. `rank` is the
        app's place in the all-time top apps by purchases and by revenue (null before its
        first sale).
        """
        parts = components()
        return json_response(answers.lookup(parts.reader, parts.cache, Scope("app", app_id)))


@blp.route("/developers/<int:owner_id>")
class DeveloperLookup(MethodView):
    @requires_reader(blp)
    @blp.response(200, DeveloperLookupSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description=NOT_KNOWN)
    def get(self, owner_id: int):
        """One developer (an app owner): name, apps created, all-time sales and rank.

        Known once an app of theirs was created or sold. `rank` is their place in the
        all-time top developers by purchases and by revenue (null before their first sale).
        """
        parts = components()
        return json_response(answers.lookup(parts.reader, parts.cache, Scope("owner", owner_id)))


@blp.route("/stats/apps")
class AppSearch(MethodView):
    @requires_reader(blp)
    @blp.arguments(SearchArgs, location="query", as_kwargs=True)
    @blp.response(200, FoundAppSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, q: str, pagination_parameters):
        """Apps whose title or developer's name holds `q` (any case), most bought first.

        Every app the Dashboard has heard of, delisted ones too (`deleted`); without `q`,
        all of them. Paginated: `page`, `page_size` (at most 100), and the `X-Pagination`
        header.
        """
        parts = components()
        found, total = answers.search_apps(
            parts.reader,
            parts.cache,
            q,
            pagination_parameters.page,
            pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return found
