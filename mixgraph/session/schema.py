"""JSON Schema of the session format, generated from the pydantic models."""

from __future__ import annotations

import json

from mixgraph.session.models import Session

SCHEMA_ID = "https://github.com/mixgraph/mixgraph/schemas/session.schema.json"


def session_json_schema() -> dict:
    schema = Session.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "mixgraph session"
    # 'use' is expanded before validation (mixgraph/session/templates.py); editors should know it
    schema["properties"]["use"] = {
        "type": "object",
        "title": "Use",
        "description": "Templates used by this session: instance name (the ${prefix} of the "
        "generated names) -> {template: NAME@VERSION or ./file.yaml, with: {parameter: value}}.",
        "propertyNames": {"pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "additionalProperties": {
            "type": "object",
            "required": ["template"],
            "additionalProperties": False,
            "properties": {
                "template": {"type": "string", "description": "Bundled NAME@VERSION (vocal-stack@1) "
                             "or a template file relative to the session, optionally @VERSION."},
                "with": {"type": "object", "description": "Parameters of the template."},
            },
        },
    }
    schema["description"] = (
        "A whole mix and master: tracks, buses, aux returns, the master chain with its loudness "
        "target, outputs and variants. Parameter names carry their unit."
    )
    return schema


def schema_text() -> str:
    return json.dumps(session_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
