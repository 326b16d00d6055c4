"""The catalogue: publishing, changing, verifying, delisting and buying apps."""

from flask import jsonify, request
from flask.views import MethodView

from appstore.api.access import components, principal, requires
from appstore.api.fields import MAX_ID
from appstore.api.links import app_links, links, purchase_links
from appstore.api.schemas.apps import (
    AppCreateSchema,
    AppQueryArgsSchema,
    AppSchema,
    AppUpdateSchema,
)
from appstore.api.schemas.purchases import (
    IdempotencyHeaderSchema,
    PurchaseSchema,
    purchase_body,
)
from appstore.security.principal import ADMIN
from appstore.services import apps, purchases
from servicekit.api import Blueprint, documented

blp = Blueprint("apps", __name__, url_prefix="/api/v1/apps", description="Apps.")
APP_ID = f"<int(max={MAX_ID}):app_id>"
NOT_FOUND = "Unknown, or unverified/delisted and not yours."
IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_HEADER = IdempotencyHeaderSchema()


@blp.route("/")
class Apps(MethodView):
    @requires(blp)
    @blp.arguments(AppQueryArgsSchema, location="query")
    @blp.response(200, AppSchema(many=True))
    @blp.alt_response(403, response="DEFAULT_ERROR", description="verified=false, not admin.")
    @blp.paginate(page_size=20, max_page_size=100)
    @links(blp, 200, {"BuyFirstApp": app_links("$response.body#/0/id")["BuyApp"]})
    def get(self, args, pagination_parameters):
        """The catalogue of verified apps; ``mine=true`` lists your own, verified or not.

        A search (``q``) counts its matches exactly up to 1,000 when it is letters and digits
        alone (on PostgreSQL; unless more than 100 words of the catalogue contain it), else
        up to 200; or up to the end of the page asked for, if that is further. Past that,
        `X-Pagination` holds `"total_exact": false` and `total` is a lower bound (at least
        that many apps match), so `next_page` is there whenever another page of matches is.
        A page past the end is an empty list. Listings without `q` are always counted
        exactly.
        """
        found, total, exact = apps.list_apps(
            components().db,
            principal(),
            q=args.get("q"),
            verified=args.get("verified"),
            mine=args["mine"],
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        pagination_parameters.total_exact = exact
        return found

    @requires(blp)
    @blp.arguments(AppCreateSchema)
    @blp.response(201, AppSchema)
    @links(blp, 201, app_links())
    def post(self, body):
        """Publish an app; it joins the catalogue once an admin verifies it."""
        return apps.create_app(components().db, principal(), body)


@blp.route(f"/{APP_ID}")
class AppById(MethodView):
    @requires(blp)
    @blp.response(200, AppSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description=NOT_FOUND)
    def get(self, app_id):
        """One app; its access link and key only for its owner, buyers and admins."""
        return apps.get_app(components().db, principal(), app_id)

    @requires(blp)
    @blp.arguments(AppUpdateSchema)
    @blp.response(200, AppSchema)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Not the owner.")
    @blp.alt_response(404, response="DEFAULT_ERROR", description=NOT_FOUND)
    def patch(self, body, app_id):
        """Change an app's title, description, price or links (owner only)."""
        return apps.update_app(components().db, principal(), app_id, body)

    @requires(blp)
    @blp.response(204)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Neither owner nor admin.")
    @blp.alt_response(404, response="DEFAULT_ERROR", description=NOT_FOUND)
    def delete(self, app_id):
        """Delist an app (owner or admin); its buyers keep their access."""
        apps.delete_app(components().db, principal(), app_id)


@blp.route(f"/{APP_ID}/verify")
class AppVerification(MethodView):
    @requires(blp, ADMIN)
    @blp.response(200, AppSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    @links(blp, 200, {k: v for k, v in app_links().items() if k in ("BuyApp", "GetApp")})
    def post(self, app_id):
        """Admit an app to the catalogue."""
        return apps.verify_app(components().db, principal(), app_id)


@blp.route(f"/{APP_ID}/purchase")
class AppPurchase(MethodView):
    # The store's busiest endpoint reads its one optional header and builds its answer
    # itself, as documented here; flask-smorest's wrappers (parsing, dumping, and one per
    # documented answer) cost a noticeable share of a purchase.
    @requires(blp)
    @documented(
        blp.arguments(IdempotencyHeaderSchema, location="headers"),
        blp.response(201, PurchaseSchema),
        blp.alt_response(402, response="DEFAULT_ERROR", description="Not enough credit."),
        blp.alt_response(403, response="DEFAULT_ERROR", description="Your own app."),
        blp.alt_response(404, response="DEFAULT_ERROR", description=NOT_FOUND),
        blp.alt_response(
            409,
            response="DEFAULT_ERROR",
            description="Already bought, or the Idempotency-Key was used for another app.",
        ),
        links(blp, 201, purchase_links()),
    )
    def post(self, app_id):
        """Buy an app with credit: debit, owner's credit and purchase are one transaction."""
        key = None
        if IDEMPOTENCY_KEY in request.headers:
            parsed = blp.ARGUMENTS_PARSER.parse(IDEMPOTENCY_HEADER, location="headers")
            key = parsed["idempotency_key"]
        bought = purchases.purchase(components().db, principal(), app_id, key)
        return jsonify(purchase_body(bought)), 201
