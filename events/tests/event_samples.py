"""Valid wire payloads and envelopes for the tests."""

import copy
import uuid

T = "2026-11-26T18:00:00.123456Z"

# One valid payload per event type of the contract, in wire form.
SAMPLE_DATA = {
    "UserRegistered": {"user_id": 9, "username": "ada", "role": "user", "registered_at": T},
    "CreditGranted": {"user_id": 9, "amount": 500, "granted_by": 1, "granted_at": T},
    "AppCreated": {"app_id": 5, "owner_id": 2, "title": "Chess", "price": 30, "created_at": T},
    "AppUpdated": {"app_id": 5, "changes": {"price": 40, "icon_url": None}},
    "AppVerified": {"app_id": 5, "verified_by": 1, "verified_at": T},
    "AppDeleted": {"app_id": 5, "deleted_by": 2, "deleted_at": T},
    "AppPurchased": {
        "purchase_id": 77,
        "app_id": 5,
        "buyer_id": 9,
        "owner_id": 2,
        "price": 30,
        "purchased_at": T,
    },
}


def wire_envelope(event_type="AppPurchased", **overrides):
    """A valid wire envelope as a dict; keyword arguments replace fields."""
    envelope = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "event_version": 1,
        "sequence": 1234,
        "source": "appstore",
        "occurred_at": T,
        "data": copy.deepcopy(SAMPLE_DATA.get(event_type, {})),
    }
    envelope.update(overrides)
    return envelope
