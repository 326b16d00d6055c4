"""Purchase records: your own, or everyone's for admin, management and service."""

from flask.views import MethodView

from appstore.api.access import components, principal, requires
from appstore.api.fields import MAX_ID
from appstore.api.schemas.purchases import PurchaseQueryArgsSchema, PurchaseSchema
from appstore.services import purchases
from servicekit.api import Blueprint

blp = Blueprint("purchases", __name__, url_prefix="/api/v1/purchases", description="Purchases.")


@blp.route("/")
class Purchases(MethodView):
    @requires(blp)
    @blp.arguments(PurchaseQueryArgsSchema, location="query")
    @blp.response(200, PurchaseSchema(many=True))
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Another buyer's purchases.")
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, args, pagination_parameters):
        """Purchases, newest first, filtered by app, buyer and time (``since`` ≤ t < ``until``)."""
        found, total = purchases.list_purchases(
            components().db,
            principal(),
            app_id=args.get("app_id"),
            buyer_id=args.get("buyer_id"),
            since=args.get("since"),
            until=args.get("until"),
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return found


@blp.route(f"/<int(max={MAX_ID}):purchase_id>")
class PurchaseById(MethodView):
    @requires(blp)
    @blp.response(200, PurchaseSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    def get(self, purchase_id):
        """One purchase (yours, or any for admin, management and service)."""
        return purchases.get_purchase(components().db, principal(), purchase_id)
