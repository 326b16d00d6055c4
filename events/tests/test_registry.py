import pytest

from appstore_events import (
    EVENT_TYPES,
    EXCHANGE,
    SOURCE,
    UnknownEventType,
    get_event_type,
    routing_key_for,
)

# The table of the contract (shared/design/CONTRACT.md, section "Events").
CONTRACT = {
    "UserRegistered": ("user.registered", ["user_id", "username", "role", "registered_at"]),
    "CreditGranted": ("credit.granted", ["user_id", "amount", "granted_by", "granted_at"]),
    "AppCreated": ("app.created", ["app_id", "owner_id", "title", "price", "created_at"]),
    "AppUpdated": ("app.updated", ["app_id", "changes"]),
    "AppVerified": ("app.verified", ["app_id", "verified_by", "verified_at"]),
    "AppDeleted": ("app.deleted", ["app_id", "deleted_by", "deleted_at"]),
    "AppPurchased": (
        "app.purchased",
        ["purchase_id", "app_id", "buyer_id", "owner_id", "price", "purchased_at"],
    ),
}


def test_exchange_and_source():
    assert EXCHANGE == "appstore.events"
    assert SOURCE == "appstore"


def test_the_table_holds_exactly_the_contract_types():
    assert set(EVENT_TYPES) == set(CONTRACT)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_routing_key_matches_the_contract(name):
    assert routing_key_for(name) == CONTRACT[name][0]
    assert get_event_type(name).routing_key == CONTRACT[name][0]


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_payload_fields_match_the_contract(name):
    schema = get_event_type(name).schema

    assert list(schema.fields) == CONTRACT[name][1]
    assert all(field.required for field in schema.fields.values())


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_type_starts_at_version_one(name):
    assert get_event_type(name).version == 1


@pytest.mark.parametrize("name", ["AppRated", "", None, ["AppCreated"]])
def test_unknown_type_is_a_typed_error(name):
    with pytest.raises(UnknownEventType):
        routing_key_for(name)
