"""Registration, tokens and the public keys that check them."""

from flask import request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError

from appstore.api.access import components
from appstore.api.links import links, user_links
from appstore.api.schemas.users import RegisterSchema, TokenRequestSchema, TokenSchema, UserSchema
from appstore.services import users
from servicekit.api import TOO_MANY_REQUESTS, Blueprint

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens.")
keys = Blueprint("keys", __name__, description="Public keys for checking tokens.")

FORM = "application/x-www-form-urlencoded"


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Username taken.")
    @blp.alt_response(429, **TOO_MANY_REQUESTS)
    @blp.doc(security=[])
    @links(blp, 201, user_links())
    def post(self, body):
        """Create an account (role ``user``, no credit).

        Registrations are counted per client address (`APPSTORE_REGISTER_LIMIT`, by default
        30 a minute); beyond that: 429 with `Retry-After`.
        """
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
    @blp.alt_response(429, **TOO_MANY_REQUESTS)
    def post(self):
        """Sign in: a JSON body or an OAuth2 password-grant form gives a bearer token.

        Failed sign-ins are counted per username (`APPSTORE_SIGNIN_LIMIT`, by default 5 a
        minute) and per client address (`APPSTORE_SIGNIN_ADDRESS_LIMIT`, 30 a minute). Once
        either is spent, sign-ins for that username or from that address get 429 with
        `Retry-After`, right password or not. Successful sign-ins are never counted.
        """
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
