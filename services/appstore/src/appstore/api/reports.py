"""Ground-truth figures for reconciliation (admin and service accounts)."""

from flask.views import MethodView

from appstore.api.access import components, requires
from appstore.api.schemas.reports import AppFiguresSchema, TotalsSchema
from appstore.security.principal import ADMIN, SERVICE
from appstore.services import reports
from servicekit.api import Blueprint

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/api/v1/reports",
    description="Figures from the Appstore's own tables, to check projections against.",
)


@blp.route("/totals")
class Totals(MethodView):
    @requires(blp, ADMIN, SERVICE)
    @blp.response(200, TotalsSchema)
    def get(self):
        """All-time totals: users, apps, verifications, purchases, credits, buyers."""
        return reports.totals(components().db)


@blp.route("/apps")
class AppFigures(MethodView):
    @requires(blp, ADMIN, SERVICE)
    @blp.response(200, AppFiguresSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=1000)
    def get(self, pagination_parameters):
        """Every app, delisted ones too, with its purchases and revenue, by id."""
        found, total = reports.app_figures(
            components().db, pagination_parameters.page, pagination_parameters.page_size
        )
        pagination_parameters.item_count = total
        return found
