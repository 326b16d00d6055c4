"""The Dashboard's event stream against its document: the fuzzer cannot read an endless
answer, so this reads the first events and checks them against what the document says."""

from __future__ import annotations

import json

import jsonschema
import requests


def nullable_to_null(schema):
    """OpenAPI 3.0's ``nullable: true`` as the JSON Schema type ``null`` it means."""
    if isinstance(schema, list):
        return [nullable_to_null(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: nullable_to_null(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    return converted


def first_events(url: str, token: str, count: int) -> list[dict]:
    """The first ``count`` events of the stream as ``{field: value}``, comments left out."""
    events: list[dict] = []
    fields: dict = {}
    with requests.get(
        f"{url}/api/v1/stream",
        headers={"Authorization": f"Bearer {token}"},
        stream=True,
        timeout=30,
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/event-stream")
        for line in answer.iter_lines(decode_unicode=True):
            if line == "":
                if fields:
                    events.append(fields)
                    fields = {}
                if len(events) == count:
                    return events
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    return events


def test_the_stream_sends_what_its_document_describes(dashboard):
    document = requests.get(f"{dashboard.url}/api/openapi.json", timeout=30).json()
    operation = document["paths"]["/api/v1/stream"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    summary_schema = nullable_to_null(
        {"$ref": "#/components/schemas/Summary", "components": document["components"]}
    )

    retry, summary = first_events(dashboard.url, dashboard.token, 2)

    assert retry == {"retry": "2000"}
    assert summary["event"] == "summary"
    assert summary["id"].isdigit()
    jsonschema.validate(json.loads(summary["data"]), summary_schema)
