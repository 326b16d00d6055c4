"""Accounts: the caller's own, everyone's for readers, credit and roles for admins."""

from flask.views import MethodView

from appstore.api.access import components, principal, requires
from appstore.api.fields import MAX_ID
from appstore.api.schemas.users import CreditGrantSchema, RoleChangeSchema, UserSchema
from appstore.security.principal import ADMIN, MANAGEMENT, SERVICE
from appstore.services import users
from servicekit.api import Blueprint

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Accounts.")
USER_ID = f"<int(max={MAX_ID}):user_id>"


@blp.route("/")
class Users(MethodView):
    @requires(blp, ADMIN, MANAGEMENT, SERVICE)
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, pagination_parameters):
        """All accounts, by id."""
        found, total = users.list_users(
            components().db, pagination_parameters.page, pagination_parameters.page_size
        )
        pagination_parameters.item_count = total
        return found


@blp.route("/me")
class Me(MethodView):
    @requires(blp)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    def get(self):
        """The caller's own account and balance."""
        return users.get_user(components().db, principal(), principal().user_id)


@blp.route(f"/{USER_ID}")
class UserById(MethodView):
    @requires(blp)
    @blp.response(200, UserSchema)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Another user's account.")
    @blp.alt_response(404, response="DEFAULT_ERROR")
    def get(self, user_id):
        """One account: your own, or anyone's for admin, management and service."""
        return users.get_user(components().db, principal(), user_id)


@blp.route(f"/{USER_ID}/credit")
class UserCredit(MethodView):
    @requires(blp, ADMIN)
    @blp.arguments(CreditGrantSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    def post(self, body, user_id):
        """Add credits to an account."""
        return users.grant_credit(components().db, principal(), user_id, **body)


@blp.route(f"/{USER_ID}/role")
class UserRole(MethodView):
    @requires(blp, ADMIN)
    @blp.arguments(RoleChangeSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR")
    def post(self, body, user_id):
        """Change an account's role; tokens issued before keep the old role until they expire."""
        return users.set_role(components().db, user_id, body["role"])
