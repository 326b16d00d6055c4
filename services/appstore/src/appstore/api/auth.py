"""Registration, tokens and the public keys that check them."""

from flask import request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError

from appstore.api.access import components
from appstore.api.schemas.users import RegisterSchema, TokenRequestSchema, TokenSchema, UserSchema
from appstore.services import users
from servicekit.api import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens.")
keys = Blueprint("keys", __name__, description="Public keys for checking tokens.")

FORM = "application/x-www-form-urlencoded"


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Username taken.")
    @blp.doc(security=[])
    def post(self, body):
        """Create an account (role ``user``, no credit)."""
        parts = components()
        return users.register(parts.db, parts.passwords, **body)


@blp.route("/token")
class Token(MethodView):
    @blp.doc(
        security=[],
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": TokenRequestSchema},
                FORM: {"schema": TokenRequestSchema},
            },
        },
    )
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Bad credentials.")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self):
        """Sign in: a JSON body or an OAuth2 password-grant form gives a bearer token."""
        body = _token_request()
        parts = components()
        user = users.authenticate(parts.db, parts.passwords, body["username"], body["password"])
        token = parts.tokens.issue(user.id, user.username, user.role)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": parts.tokens.ttl_seconds,
        }


def _token_request() -> dict:
    if request.mimetype == FORM:
        data, location = request.form.to_dict(), "form"
    else:
        try:
            data, location = request.get_json(), "json"
        except RecursionError:
            abort(400, message="The JSON body is nested too deeply.")
    if not isinstance(data, dict):
        abort(422, message="Send a JSON object or a form.", errors={location: ["Not an object."]})
    try:
        return TokenRequestSchema().load(data)
    except ValidationError as error:
        abort(422, errors={location: error.messages})


@keys.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @keys.doc(security=[])
    @keys.response(200)
    def get(self):
        """The JSON Web Key Set with the RS256 public key(s) that sign the tokens."""
        return components().tokens.jwks()
