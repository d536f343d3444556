"""The JSON Schemas in Protocol/schemas: valid, consistent with what the daemon accepts and
refuses, and every example in PROTOCOL.md validates."""

import json
import os
import re

import pytest
from jsonschema import Draft202012Validator

from conftest import PROTOCOL, SCHEMAS, check_event, check_reply
from test_bad_input import CASES


def test_schemas_are_valid_draft_2020_12():
    assert {"request", "reply", "error", "event", "model", "classify.result", "embed.result", "explain.result", "models.result",
            "status.result", "ping.result", "load.result", "unload.result", "job", "train.result", "jobs.result",
            "cancel.result"} <= set(SCHEMAS)
    for v in SCHEMAS.values():
        Draft202012Validator.check_schema(v.schema)
        assert v.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


VALID_REQUESTS = [
    {"op": "ping"},
    {"v": 1, "id": "1", "op": "status"},
    {"id": 7, "op": "models"},
    {"id": "c", "op": "classify", "texts": ["a", "b"], "model": "m", "top_k": 1, "deadline_ms": 0, "truncate": False},
    {"id": "c", "op": "classify", "text": "a", "labels": ["x", "y"]},
    {"id": "c", "op": "classify", "texts": ["a"], "pairs": ["b"]},
    {"id": "e", "op": "embed", "texts": ["a"], "pairs": ["b"]},
    {"id": "x", "op": "explain", "text": "a"},
    {"id": "x", "op": "explain", "texts": ["a", "b"], "pairs": ["c", "d"], "model": "m", "label": ["x", "y"], "steps": 64,
     "rule": "trapezoid", "baseline": "zero", "deadline_ms": 1000, "truncate": False},
    {"id": "x", "op": "explain", "text": "a", "method": "attention", "layers": [0, 3], "heads": [1]},
    {"id": "x", "op": "explain", "text": "a", "method": "rollout", "label": None, "layers": None, "heads": None},
    {"id": "l", "op": "load", "name": "n", "path": "/p"},
    {"id": "u", "op": "unload", "name": "n"},
    {"id": "t", "op": "train", "name": "n", "train": "/d/train.tsv", "options": {"epochs": 2, "method": "lora", "learning_rate": 1e-3}},
    {"id": "j", "op": "jobs"},
    {"id": "j", "op": "jobs", "job": "3"},
    {"id": "x", "op": "cancel", "job": "3"},
]

# Refusals the schema cannot see: they depend on the daemon's state, the endpoint, or array lengths.
SERVER_SIDE = {"unknown model", "classify without head", "load on tcp", "unload on tcp",
               "pairs count"}  # equal lengths: not expressible in JSON Schema


@pytest.mark.parametrize("body", VALID_REQUESTS, ids=lambda b: b["op"])
def test_request_schema_accepts_valid_requests(body):
    SCHEMAS["request"].validate(body)


@pytest.mark.parametrize("name,body,code,rid", [c for c in CASES if not isinstance(c[1], bytes)], ids=lambda x: x if isinstance(x, str) else "")
def test_request_schema_refuses_what_the_daemon_refuses(name, body, code, rid):
    if name in SERVER_SIDE:
        SCHEMAS["request"].validate(body)
    else:
        assert not SCHEMAS["request"].is_valid(body), f"the schema accepts {body} which the daemon answers {code}"


def protocol_examples():
    """The ```json blocks of PROTOCOL.md, in order."""
    with open(os.path.join(PROTOCOL, "PROTOCOL.md"), encoding="utf-8") as f:
        text = f.read()
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


def test_protocol_md_examples_validate():
    """Requests validate against request.schema.json (or, if they show an error, are followed by
    an error reply); each reply against reply.schema.json and the result schema of the request
    before it, whose id it carries; events against event.schema.json."""
    examples = protocol_examples()
    assert len(examples) >= 15
    request, counts = None, {"request": 0, "reply": 0, "event": 0}
    for ex in examples:
        if "op" in ex:
            request = ex
            counts["request"] += 1
        elif "ok" in ex:
            assert request is not None and ex["id"] == request.get("id"), ex
            if ex["ok"]:
                SCHEMAS["request"].validate(request)
            check_reply(ex, request["op"] if ex["ok"] else None)
            counts["reply"] += 1
            request = None
        elif "event" in ex:
            check_event([ex["event"].encode(), json.dumps(ex).encode()])
            counts["event"] += 1
        else:
            pytest.fail(f"a json example in PROTOCOL.md that is neither request, reply nor event: {ex}")
    assert all(counts.values()), counts
