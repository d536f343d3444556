"""Protocol/openapi.yaml, the HTTP gateway's OpenAPI 3.1 document, against a real gateway.

- The document itself: OpenAPI 3.1, explicit statuses only, unique operationIds, every `$ref`
  resolvable (result bodies are the protocol's files in schemas/, by relative `$ref`, loaded here
  under their file URIs and their `$id`s), every schema valid JSON Schema 2020-12, every example
  valid against its schema; each error response's code has the status HTTPStatusCodes.swift gives
  it, and /readyz lists the states of BertServer.Readiness.
- It lists exactly the routes GatewayRoutes.swift and Console/ConsoleRoutes.swift register (a
  route added there without documentation fails here), the admin ones, and only those, tagged
  "admin". Other methods and paths, and the admin routes on the public listener, are 404
  unknown_op.
- Bearer tokens: the `bearer` scheme is optional (`security: [{}, {bearer: []}]`); the operations
  with `security: []` are exactly the paths BearerAuthMiddleware lets through (the probes and
  GatewayRoutes.consolePaths), and every other one documents 401 (components.responses.Unauthorized,
  no body). A gateway with tokens files on both listeners answers every one of those 401 without
  a valid token.
- Every route is called, successfully and with the errors it documents. For each real answer:
  the status is documented for that route, the body validates against the documented schema for
  that status, required headers (Retry-After) are there; a request body answered 2xx validates
  against the documented request schema, and bodies refused for their shape (marked
  `body_invalid`) do not.
- The web console: its page and assets are served on both listeners, the page loads its own
  script, and nothing refers to another site (it works offline); label pictures come from a
  model directory's label_images/ with the type of their extension.
- Last, every documented (route, status) has been seen, but for the few no request can provoke
  (UNREACHABLE, each with its reason).
"""

import functools
import glob
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import struct
import threading
import urllib.parse
import zlib

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import PROTOCOL, REPO, TINY, stop_and_check, wait_until
from test_http import Gateway, UnixHTTPConnection

MIB = 1024 * 1024
DOC_PATH = os.path.join(PROTOCOL, "openapi.yaml")
DOC_URI = pathlib.Path(DOC_PATH).as_uri()
GATEWAY = os.path.join(REPO, "Sources", "BertGateway")
CONSOLE_ROUTES = os.path.join(GATEWAY, "Console", "ConsoleRoutes.swift")
METHODS = ("get", "post", "put", "delete", "patch")

# Documented statuses that no request can provoke, and why.
UNREACHABLE = {
    ("GET", "/v1/status", 503): "status is answered while stopping; 503 only between the end of the server loop and the "
                                "listener closing",
}
INTERNAL = "500 internal is a bug: no request provokes it"
# The media types of the 2xx answers that are not JSON.
NOT_JSON = {"/paths/~1metrics/get": {"text/plain"}, "/paths/~1v1~1events/get": {"text/event-stream"},
            "/paths/~1/get": {"text/html"}, "/paths/~1console.css/get": {"text/css"},
            "/paths/~1console.js/get": {"text/javascript"},
            "/paths/~1v1~1models~1{name}~1label_images~1{label}/get": {"image/png", "image/jpeg", "image/svg+xml"}}


# MARK: the document

def _load():
    with open(DOC_PATH) as f:
        doc = yaml.safe_load(f)
    resources = [(DOC_URI, Resource(contents=doc, specification=DRAFT202012))]
    for path in sorted(glob.glob(os.path.join(PROTOCOL, "schemas", "*.schema.json"))):
        with open(path) as f:
            schema = json.load(f)
        resource = Resource.from_contents(schema)
        resources += [(pathlib.Path(path).as_uri(), resource), (schema["$id"], resource)]
    return doc, Registry().with_resources(resources)


DOC, REGISTRY = _load()


def escape(segment):
    return str(segment).replace("~", "~0").replace("/", "~1")


def at(pointer):
    node = DOC
    for segment in pointer.lstrip("/").split("/"):
        segment = segment.replace("~1", "/").replace("~0", "~")
        node = node[int(segment)] if isinstance(node, list) else node[segment]
    return node


def deref(node, pointer):
    """Follows OpenAPI references (responses, parameters, headers) inside the document."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"{pointer}: only local references to components are expected, not {ref}"
        pointer = ref[1:]
        node = at(pointer)
    return node, pointer


@functools.lru_cache(maxsize=None)
def validator(pointer):
    """A validator for the schema at this JSON pointer of the document (its $refs resolved from there)."""
    ref = DOC_URI + "#" + urllib.parse.quote(pointer, safe="/~")
    return Draft202012Validator({"$ref": ref}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(pointer, instance):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(pointer).iter_errors(instance)]


def operations():
    """(METHOD, path template, operation, JSON pointer) of every documented operation."""
    for template, item in DOC["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), template, item[method], f"/paths/{escape(template)}/{method}"


def template_of(path):
    """The documented path template that a real path matches (empty segments and the query ignored), or None."""
    segments = [s for s in path.split("?", 1)[0].split("/") if s]  # not urlsplit: "//x" is no host here
    for template in DOC["paths"]:
        parts = [s for s in template.split("/") if s]
        if len(parts) == len(segments) and all(p == s or re.fullmatch(r"\{\w+\}", p) for p, s in zip(parts, segments)):
            return template
    return None


def concrete(template, **values):
    """A real path for a template: a job id, a model and one of its labels."""
    values = {"id": "1", "name": "tiny", "label": "pos", **values}
    return re.sub(r"\{(\w+)\}", lambda m: urllib.parse.quote(values[m.group(1)], safe=""), template)


def walk(node, pointer=""):
    """(pointer, node) of every dict and list in the document."""
    yield pointer, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if isinstance(value, (dict, list)):
            yield from walk(value, f"{pointer}/{escape(key)}")


def schema_pointers():
    """Pointers of the document's Schema Objects: the components, and the `schema` of every media
    type, parameter and header."""
    for name in DOC["components"]["schemas"]:
        yield f"/components/schemas/{escape(name)}"
    for pointer, node in walk(DOC):
        if not pointer.startswith("/components/schemas/") and isinstance(node, dict) and isinstance(node.get("schema"), dict):
            yield pointer + "/schema"


# MARK: the Swift side

def swift_routes():
    """{(METHOD, template): admin?} as GatewayRoutes.swift registers them (`:id` → `{id}`), with the
    console's routes of Console/ConsoleRoutes.swift: public ones (on the public and the admin
    listener, not on the metrics-only one)."""
    with open(os.path.join(GATEWAY, "GatewayRoutes.swift")) as f:
        text = f.read()
    with open(CONSOLE_ROUTES) as f:
        console = f.read()
    # The console's routes are added with the public ones, after the metrics-only listener's return.
    router = text.split("func router()", 1)[1].split("func addAdminRoutes", 1)[0]
    assert re.search(r"if metricsOnly \{ return router \}(.|\n)*\baddConsoleRoutes\(router\)", router), \
        "GatewayRoutes.router() no longer adds the console's routes after the metrics-only return: teach this test"
    public, admin = text.split("func addAdminRoutes", 1)
    routes = {}
    for name, part, is_admin in (("GatewayRoutes.swift", public, False), ("GatewayRoutes.swift", admin, True),
                                 ("ConsoleRoutes.swift", console, False)):
        calls = set(re.findall(r"\brouter\.(\w+)\s*\(", part))
        assert calls <= {"get", "post"}, f"{name} registers routes with router.{calls - {'get', 'post'}}: teach this test"
        for method, path in re.findall(r'\brouter\.(get|post)\("([^"]+)"', part):
            route = (method.upper(), re.sub(r":(\w+)", r"{\1}", path))
            assert route not in routes, f"{name} registers {route} twice"
            routes[route] = is_admin
    assert len(routes) >= 19, routes
    return routes


HUMMINGBIRD_STATUS = {"ok": 200, "badRequest": 400, "forbidden": 403, "notFound": 404, "contentTooLarge": 413,
                      "unsupportedMediaType": 415, "unprocessableContent": 422, "tooManyRequests": 429,
                      "internalServerError": 500, "serviceUnavailable": 503, "gatewayTimeout": 504}


def swift_status_of_codes():
    """{error code: HTTP status} from ErrorCode.swift and HTTPStatusCodes.swift."""
    with open(os.path.join(REPO, "Sources", "BertProtocol", "ErrorCode.swift")) as f:
        names = {name.strip("`"): raw for name, raw in re.findall(r'case (`?\w+`?) = "(\w+)"', f.read())}
    with open(os.path.join(GATEWAY, "HTTPStatusCodes.swift")) as f:
        text = f.read()
    mapping = {}
    for cases, status in re.findall(r"case ((?:\.\w+,?\s*)+): return \.(\w+)", text):
        for case in re.findall(r"\.(\w+)", cases):
            mapping[names[case]] = HUMMINGBIRD_STATUS[status]
    assert set(mapping) == set(names.values()), (mapping, names)
    return mapping


# MARK: calls, checked against the document

SEEN = set()        # (METHOD, template, status) answered by a gateway
EXERCISERS = set()  # the tests that call routes
DONE = set()        # those that ran to their end


def exercises(test):
    EXERCISERS.add(test.__name__)

    @functools.wraps(test)
    def run(*args, **kwargs):
        test(*args, **kwargs)
        DONE.add(test.__name__)
    return run


def request(gw, method, path, body=None, *, admin=False, raw=None, headers=None, timeout=60):
    """(status, headers, Content-Type, body) of one request; a JSON body parsed, an image as bytes, any other as text."""
    conn = UnixHTTPConnection(gw.admin_socket, timeout) if admin else http.client.HTTPConnection("127.0.0.1", gw.port, timeout=timeout)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent_headers = {"Content-Type": "application/json"} if data is not None else {}
        sent_headers.update(headers or {})
        conn.request(method, path, body=data, headers=sent_headers)
        r = conn.getresponse()
        payload = r.read()
        media = r.getheader("Content-Type", "")
        kind = media.split(";")[0].strip()
        payload = json.loads(payload) if kind == "application/json" else payload if kind.startswith("image/") else payload.decode()
        return r.status, dict(r.getheaders()), media, payload
    finally:
        conn.close()


def media_type_of(content, received):
    """The key of `content` that the received Content-Type matches (its parameters may be more specific)."""
    def parts(media):
        items = [p.strip().lower() for p in media.split(";")]
        return items[0], set(p.replace(" ", "") for p in items[1:] if p)
    kind, params = parts(received)
    for key in content:
        key_kind, key_params = parts(key)
        if key_kind == kind and key_params <= params:
            return key
    return None


def check(method, path, result, *, admin, sent=None, body_invalid=False):
    """Checks one real answer against the document; returns the parsed body."""
    status, headers, media, payload = result
    template = template_of(path)
    operation = DOC["paths"].get(template, {}).get(method.lower()) if template else None
    assert operation is not None, f"{method} {path} answered {status} but is not in openapi.yaml: {payload}"
    if "admin" in operation.get("tags", []):
        assert admin, f"{method} {path} is an admin route: call it on the admin listener"
    base = f"/paths/{escape(template)}/{method.lower()}"
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template}: status {status} is not documented ({sorted(responses)}): {payload}"
    response, pointer = deref(responses[str(status)], f"{base}/responses/{status}")
    if "content" in response:
        key = media_type_of(response["content"], media)
        assert key, f"{method} {path} {status}: Content-Type {media!r} is not documented ({list(response['content'])})"
        # A binary body (`format: binary`) is checked as a string of its bytes.
        wrong = problems(f"{pointer}/content/{escape(key)}/schema", payload.decode("latin-1") if isinstance(payload, bytes) else payload)
        assert not wrong, f"{method} {path} {status}: the body does not match the documented schema: {wrong}\n{payload}"
    else:
        assert payload in ("", b"") and not media, f"{method} {path} {status}: documented without a body, answered {media!r} {payload!r}"
    received = {k.lower(): v for k, v in headers.items()}
    for name, header in response.get("headers", {}).items():
        header, header_pointer = deref(header, f"{pointer}/headers/{escape(name)}")
        if header.get("required"):
            assert name.lower() in received, f"{method} {path} {status}: no {name} header ({headers})"
        if name.lower() in received:
            value = received[name.lower()]
            value = int(value) if header["schema"].get("type") == "integer" else value
            assert not problems(header_pointer + "/schema", value), (name, value)
    if sent is not None and "requestBody" in operation:
        body, body_pointer = deref(operation["requestBody"], base + "/requestBody")
        wrong = problems(body_pointer + "/content/application~1json/schema", sent)
        if 200 <= status < 300:
            assert not wrong, f"{method} {path}: the gateway accepted a body the documented schema refuses: {wrong}\n{sent}"
        if body_invalid:
            assert wrong, f"{method} {path}: the documented schema accepts a body the gateway refuses ({status}): {sent}"
    SEEN.add((method, template, status))
    return payload


def call(gw, method, path, body=None, *, admin=False, raw=None, headers=None, expect=None, code=None, body_invalid=False):
    result = request(gw, method, path, body, admin=admin, raw=raw, headers=headers)
    payload = check(method, path, result, admin=admin, sent=body if raw is None else None, body_invalid=body_invalid)
    if expect is not None:
        assert result[0] == expect, f"{method} {path}: {result[0]}, expected {expect}: {payload}"
    if code is not None:
        assert payload["error"]["code"] == code, payload
    return payload


def unknown_route(gw, method, path, admin=False):
    status, _, media, payload = request(gw, method, path, {} if method in ("POST", "PUT", "PATCH") else None, admin=admin)
    assert status == 404 and media == "application/json", (method, path, admin, status, payload)
    assert not problems("/components/responses/UnknownRoute/content/application~1json/schema", payload), payload


def wrong_method(gw, method, template, admin=False):
    """A documented path asked with a method it does not list: 405, unknown_op, Allow naming its methods."""
    status, headers, media, payload = request(gw, method, concrete(template), {} if method in ("POST", "PUT", "PATCH") else None,
                                              admin=admin)
    allow = ", ".join(sorted(m.upper() for m in DOC["paths"][template] if m in METHODS))
    assert status == 405 and media == "application/json", (method, template, admin, status, payload)
    assert headers.get("Allow") == allow, (method, template, headers)
    assert not problems("/components/responses/MethodNotAllowed/content/application~1json/schema", payload), payload


def post(gw, path, body=None, **kw):
    return call(gw, "POST", path, body, **kw)


def get(gw, path, **kw):
    return call(gw, "GET", path, **kw)


@pytest.fixture(scope="module")
def gw():
    g = Gateway(name="bertd-openapi")
    yield g
    stop_and_check(g.daemon)


TOO_BIG = b"{" + b" " * (2 * MIB) + b"}"
TEXT_PLAIN = {"Content-Type": "text/plain"}
MANY = ["x"] * 300  # more than server.max_texts_per_request


# MARK: the document's own checks

def test_the_document_is_openapi_3_1_with_explicit_statuses():
    assert DOC["openapi"].startswith("3.1.")
    ids = [op["operationId"] for _, _, op, _ in operations()]
    assert len(ids) == len(set(ids)), ids
    for method, template, op, _ in operations():
        assert op.get("tags") and op.get("summary"), (method, template)
        statuses = list(op["responses"])
        assert statuses and all(re.fullmatch(r"[1-5]\d\d", s) for s in statuses), (method, template, statuses)
        assert any(s.startswith("2") for s in statuses), (method, template)
        for name in re.findall(r"\{(\w+)\}", template):
            params = [deref(p, "")[0] for p in DOC["paths"][template].get("parameters", []) + op.get("parameters", [])]
            assert any(p["name"] == name and p["in"] == "path" and p["required"] for p in params), (template, name)
        if method == "GET":
            assert "requestBody" not in op
    for _, _, op, pointer in operations():
        for status, response in op["responses"].items():
            response, _ = deref(response, f"{pointer}/responses/{status}")
            if status == "401":  # the bearer middleware's answer: no body
                assert "content" not in response and response["description"], (pointer, status)
                continue
            assert response["description"], (pointer, status)
            if status.startswith("2") and pointer in NOT_JSON:
                assert set(response["content"]) == NOT_JSON[pointer], (pointer, status)
            else:
                assert set(response["content"]) == {"application/json"}, (pointer, status)


def test_every_reference_resolves_and_every_schema_and_example_is_valid():
    resolver = REGISTRY.resolver(base_uri=DOC_URI)
    refs = [(p, n["$ref"]) for p, n in walk(DOC) if isinstance(n, dict) and "$ref" in n]
    assert len(refs) > 50
    for pointer, ref in refs:
        resolver.lookup(ref)  # raises Unresolvable
    pointers = list(schema_pointers())
    assert len(pointers) > 40
    for pointer in pointers:
        Draft202012Validator.check_schema(at(pointer))
    examples = 0
    for pointer, node in walk(DOC):
        if isinstance(node, dict) and "example" in node and isinstance(node.get("schema"), dict):
            assert not problems(pointer + "/schema", node["example"]), pointer
            examples += 1
        elif isinstance(node, dict) and "example" in node and pointer.startswith("/components/schemas/"):
            assert not problems(pointer, node["example"]), pointer
            examples += 1
    assert examples >= 10


def test_error_responses_use_the_status_of_their_code():
    """Each error response narrows `code` to one value; HTTPStatusCodes.swift gives that code this
    status (415 is bad_request for a body that is not JSON)."""
    status_of = swift_status_of_codes()
    # The codes are the protocol's: the error object is error.schema.json's.
    assert at("/components/schemas/Error")["properties"]["error"] == {"$ref": "schemas/error.schema.json#/properties/error"}
    for method, template, op, pointer in operations():
        for status, response in op["responses"].items():
            if status.startswith("2") or template == "/readyz":
                continue
            if status == "401":  # not a protocol error: test_bearer_tokens_are_documented_where_the_gateway_asks_for_them
                continue
            response, rpointer = deref(response, f"{pointer}/responses/{status}")
            schema, _ = deref(response["content"]["application/json"]["schema"], rpointer)
            code = schema["allOf"][1]["properties"]["error"]["properties"]["code"]
            codes = code["enum"] if "enum" in code else [code["const"]]  # a few routes answer one status with two codes
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
            for code in codes:
                expected = 415 if code == "bad_request" and status == "415" else status_of[code]
                assert int(status) == expected, (method, template, status, code)
            if int(status) in (429, 503):
                assert deref(response["headers"]["Retry-After"], "")[0]["required"], (method, template, status)


def test_readyz_lists_the_servers_readiness_states():
    with open(os.path.join(REPO, "Sources", "BertServer", "Server.swift")) as f:
        states = set(re.search(r"enum Readiness[^{]*\{\s*case ([\w, ]+)", f.read()).group(1).replace(" ", "").split(","))
    responses = DOC["paths"]["/readyz"]["get"]["responses"]
    ready = responses["200"]["content"]["application/json"]["schema"]["properties"]["status"]["const"]
    not_ready = responses["503"]["content"]["application/json"]["schema"]["properties"]["status"]["enum"]
    assert ready == "ready" and {ready, *not_ready} == states and ready not in not_ready


def test_the_document_lists_exactly_the_routes_of_the_gateway():
    routes = swift_routes()
    documented = {(m, t): "admin" in op.get("tags", []) for m, t, op, _ in operations()}
    assert set(routes) - set(documented) == set(), "routes in GatewayRoutes.swift missing from openapi.yaml"
    assert set(documented) - set(routes) == set(), "routes in openapi.yaml that GatewayRoutes.swift does not register"
    assert documented == routes, "the tag admin must be on exactly the routes of addAdminRoutes"
    admin_servers = [s["url"] for s in DOC["servers"] if "admin" in s["description"]]
    for (method, template), is_admin in documented.items():
        op = DOC["paths"][template][method.lower()]
        if is_admin:
            assert [s["url"] for s in op["servers"]] == admin_servers and "admin listener only" in op["description"].lower()
        else:
            assert "servers" not in op


def swift_open_paths():
    """The paths BearerAuthMiddleware (BearerTokens.swift) lets through without a token."""
    with open(os.path.join(GATEWAY, "BearerTokens.swift")) as f:
        middleware = f.read().split("struct BearerAuthMiddleware", 1)[1]
    paths = set(re.findall(r'\bpath == "([^"]+)"', middleware))
    assert paths, "BearerTokens.swift: no exempt paths found: teach this test"
    # And the console's page and assets: `GatewayRoutes.consolePaths.contains(path)`, a set literal.
    assert re.search(r"\bGatewayRoutes\.consolePaths\.contains\(path\)", middleware), \
        "BearerTokens.swift no longer lets GatewayRoutes.consolePaths through: teach this test"
    with open(CONSOLE_ROUTES) as f:
        declaration = re.search(r"static let consolePaths: Set<String> = \[([^\]]*)\]", f.read())
    assert declaration, "ConsoleRoutes.swift: no `static let consolePaths: Set<String> = [...]`: teach this test"
    console = re.findall(r'"([^"]+)"', declaration.group(1))
    assert console and re.fullmatch(r'\s*"[^"]+"(\s*,\s*"[^"]+")*\s*,?\s*', declaration.group(1)), declaration.group(1)
    return paths | set(console)


def test_bearer_tokens_are_documented_where_the_gateway_asks_for_them():
    assert DOC["components"]["securitySchemes"]["bearer"]["type"] == "http"
    assert DOC["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # Optional: a listener without a tokens file is open.
    assert DOC["security"] == [{}, {"bearer": []}]
    unauthorized = at("/components/responses/Unauthorized")
    assert "content" not in unauthorized
    assert deref(unauthorized["headers"]["WWW-Authenticate"], "")[0]["required"]
    open_paths = swift_open_paths()
    for method, template, op, pointer in operations():
        security = op.get("security", DOC["security"])
        if template in open_paths:
            assert security == [] and "401" not in op["responses"], (method, template)
        else:
            assert security == DOC["security"], (method, template)
            assert op["responses"].get("401") == {"$ref": "#/components/responses/Unauthorized"}, (method, template)


# MARK: every route, for real

@exercises
def test_health_and_information_routes(gw):
    assert get(gw, "/healthz", expect=200) == {"status": "alive"}
    assert get(gw, "/healthz/", expect=200) == {"status": "alive"}  # empty segments are ignored
    assert get(gw, "/readyz", expect=200) == {"status": "ready"}
    assert "bertd_build_info" in get(gw, "/metrics", expect=200)
    get(gw, "/metrics", admin=True, expect=200)
    models = get(gw, "/v1/models?verbose=1", expect=200)
    assert {m["name"] for m in models["models"]} == {"minilm", "tiny"}
    assert get(gw, "/v1/status", expect=200)["protocol"] == 1


@exercises
def test_classify(gw):
    r = post(gw, "/v1/classify", {"inputs": ["the striker scored twice", "stir the sauce gently"], "labels": ["sports", "cooking"],
                                  "top_k": 1}, expect=200)
    assert [x["label"] for x in r["results"]] == ["sports", "cooking"]
    post(gw, "/v1/classify", {"inputs": "hello", "model": "tiny", "pairs": ["there"], "truncate": None, "deadline_ms": 60000}, expect=200)
    post(gw, "/v1/classify", None, expect=400, code="bad_request")  # no body: {}
    for body in [{}, {"inputs": None}, {"inputs": []}, {"inputs": [1, 2]}, {"inputs": ""}, {"inputs": "x", "top_k": 0},
                 {"inputs": "x", "texts": ["y"]}, {"inputs": "x", "labels": ["a", "a"]}, {"inputs": "x", "labels": None},
                 {"inputs": "x", "labels": ["a", "b"], "pairs": ["y"]}, {"inputs": "x", "model": 5}, {"inputs": "x", "deadline_ms": -1},
                 {"inputs": "x", "truncate": "no"}]:
        post(gw, "/v1/classify", body, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/v1/classify", {"inputs": ["a", "b"], "model": "tiny", "pairs": ["c"]}, expect=400, code="bad_request")
    post(gw, "/v1/classify", raw=b"not json", expect=400, code="bad_request")
    post(gw, "/v1/classify", raw=b"[1, 2]", expect=400, code="bad_request")
    post(gw, "/v1/classify", raw=b"\xff\xfe{}", expect=400, code="bad_request")
    post(gw, "/v1/classify", {"inputs": "x", "model": "nope"}, expect=404, code="unknown_model")
    post(gw, "/v1/classify", {"inputs": MANY, "labels": ["a", "b"]}, expect=413, code="too_large")
    post(gw, "/v1/classify", {"inputs": "word " * 100, "model": "tiny", "truncate": False}, expect=413, code="too_large")
    post(gw, "/v1/classify", raw=TOO_BIG, expect=413, code="too_large")
    post(gw, "/v1/classify", {"inputs": "x"}, headers=TEXT_PLAIN, expect=415, code="bad_request")
    post(gw, "/v1/classify", {"inputs": "x", "labels": ["a", "b"]}, headers={"Content-Type": "text/json"}, expect=200)
    post(gw, "/v1/classify", {"inputs": "x", "labels": ["a", "b"]}, headers={"Content-Type": "application/x-www-form-urlencoded"},
         expect=200)
    post(gw, "/v1/classify", {"inputs": "x"}, expect=422, code="unsupported")  # minilm has no head
    post(gw, "/v1/classify", {"inputs": "x", "labels": ["a", "b"], "deadline_ms": 0}, expect=504, code="deadline_exceeded")


@exercises
def test_embed(gw):
    r = post(gw, "/v1/embed", {"inputs": ["a", "b"]}, expect=200)
    assert r["dimension"] == 384 and len(r["embeddings"]) == 2
    post(gw, "/v1/embed", {"inputs": "a", "model": "tiny", "pairs": ["b"], "truncate": False}, expect=200)
    for body in [{}, {"inputs": [1]}, {"inputs": "x", "labels": ["a"]}, {"inputs": "x", "labels": None}, {"inputs": "x", "text": "y"}]:
        post(gw, "/v1/embed", body, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/v1/embed", {"inputs": "x", "model": "nope"}, expect=404, code="unknown_model")
    post(gw, "/v1/embed", {"inputs": MANY}, expect=413, code="too_large")
    post(gw, "/v1/embed", raw=TOO_BIG, expect=413, code="too_large")
    post(gw, "/v1/embed", {"inputs": "x"}, headers=TEXT_PLAIN, expect=415, code="bad_request")
    post(gw, "/v1/embed", {"inputs": "x", "deadline_ms": 0}, expect=504, code="deadline_exceeded")


@exercises
def test_explain(gw):
    text = "the acting was dreadful"
    r = post(gw, "/v1/explain", {"inputs": text, "model": "tiny", "steps": 8}, expect=200)
    assert r["method"] == "integrated_gradients" and len(r["explanations"]) == 1
    assert r["explanations"][0]["steps"] == 8 and len(r["explanations"][0]["attributions"]) == 1
    r = post(gw, "/v1/explain", {"inputs": ["good film", "bad film"], "model": "tiny", "pairs": ["yes", "no"],
                                 "method": "integrated_gradients", "label": ["neg", "pos"], "steps": 2, "rule": "trapezoid",
                                 "baseline": "zero", "truncate": None, "deadline_ms": 60000}, expect=200)
    assert [[a["label"] for a in e["attributions"]] for e in r["explanations"]] == [["neg", "pos"]] * 2
    r = post(gw, "/v1/explain", {"inputs": ["a b", "c"], "model": "tiny", "method": "attention", "layers": [1], "heads": [0, 3]},
             expect=200)
    assert r["method"] == "attention" and [(e["layers"], e["heads"]) for e in r["explanations"]] == [([1], [0, 3])] * 2
    r = post(gw, "/v1/explain", {"inputs": "a b", "model": "tiny", "method": "attention", "label": None}, expect=200)
    assert r["explanations"][0]["layers"] == [0, 1] and r["explanations"][0]["heads"] == [0, 1, 2, 3]  # all of tiny's
    r = post(gw, "/v1/explain", {"inputs": text, "model": "tiny", "method": "rollout"}, expect=200)
    assert r["method"] == "rollout" and r["explanations"][0]["token_scores"]
    assert post(gw, "/v1/explain", {"inputs": "word " * 100, "model": "tiny", "steps": 2}, expect=200)["explanations"][0]["truncated"]
    # Zero-shot on the default model (MiniLM, no head): classify's labels and logits, the cosines explained.
    inputs, labels = ["the waiter was rude", "the striker scored twice"], ["film", "restaurant", "sports"]
    r = post(gw, "/v1/explain", {"inputs": inputs, "labels": labels, "steps": 8}, expect=200)
    c = post(gw, "/v1/classify", {"inputs": inputs, "labels": labels}, expect=200)
    assert r["model"] == "minilm" and [e["label"] for e in r["explanations"]] == [x["label"] for x in c["results"]] == ["restaurant", "sports"]
    for e in r["explanations"]:
        (a,) = e["attributions"]
        assert a["label"] == e["label"] and abs(20 * a["logit"] - e["logits"][labels.index(a["label"])]) <= 1e-4
    r = post(gw, "/v1/explain", {"inputs": "the waiter was rude", "labels": labels, "label": ["sports", "film"], "steps": 4,
                                 "rule": "trapezoid", "baseline": "zero", "method": "integrated_gradients"}, expect=200)
    assert [a["label"] for a in r["explanations"][0]["attributions"]] == ["sports", "film"]
    r = post(gw, "/v1/explain", {"inputs": "x", "model": "tiny", "labels": ["neg"], "steps": 2}, expect=200)  # a head model, zero-shot
    assert r["explanations"][0]["scores"].keys() == {"neg"}
    post(gw, "/v1/explain", {"inputs": "x", "labels": ["a", "b"], "pairs": ["y"]}, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/v1/explain", {"inputs": "x", "labels": ["a", "b"], "method": "attention"}, expect=422, code="unsupported",
         body_invalid=True)
    post(gw, "/v1/explain", {"inputs": "x", "labels": ["a", "b"], "method": "rollout"}, expect=422, code="unsupported",
         body_invalid=True)
    post(gw, "/v1/explain", None, expect=400, code="bad_request")  # no body: {}
    for body in [{}, {"inputs": []}, {"inputs": ""}, {"inputs": [1]}, {"inputs": "x", "texts": ["y"]}, {"texts": ["x"]},
                 {"inputs": "x", "model": 5}, {"inputs": "x", "deadline_ms": -1}, {"inputs": "x", "truncate": "no"},
                 {"inputs": "x", "labels": None}, {"inputs": "x", "labels": []}, {"inputs": "x", "labels": ["a", "a"]},
                 {"inputs": "x", "labels": ["a", ""]}, {"inputs": "x", "labels": ["a"], "pairs": ["y"]}, {"inputs": "x", "top_k": 1},
                 {"inputs": "x", "labels": ["a", "b"], "top_k": 1},
                 {"inputs": "x", "method": "lime"}, {"inputs": "x", "steps": 0}, {"inputs": "x", "steps": 1025},
                 {"inputs": "x", "steps": 1.5}, {"inputs": "x", "rule": "simpson"}, {"inputs": "x", "rule": "trapezoid", "steps": 1},
                 {"inputs": "x", "baseline": "mask"}, {"inputs": "x", "label": []}, {"inputs": "x", "label": 3},
                 {"inputs": "x", "layers": [0]}, {"inputs": "x", "method": "attention", "label": "pos"},
                 {"inputs": "x", "method": "rollout", "heads": [0]}, {"inputs": "x", "method": "attention", "heads": []},
                 {"inputs": "x", "method": "attention", "layers": [-1]}]:
        post(gw, "/v1/explain", dict(body, model=body.get("model", "tiny")), expect=400, code="bad_request", body_invalid=True)
    # What depends on the model is 400 as well, though the body has the right shape.
    for body in [{"inputs": "x", "label": "happy"}, {"inputs": "x", "labels": ["a", "b"], "label": "happy"},
                 {"inputs": "x", "method": "attention", "layers": [2]},
                 {"inputs": "x", "method": "attention", "heads": [4]}, {"inputs": ["a", "b"], "pairs": ["c"]}]:
        post(gw, "/v1/explain", dict(body, model="tiny"), expect=400, code="bad_request")
    post(gw, "/v1/explain", raw=b"not json", expect=400, code="bad_request")
    post(gw, "/v1/explain", {"inputs": "x", "model": "nope"}, expect=404, code="unknown_model")
    post(gw, "/v1/explain", {"inputs": ["x"] * 17, "model": "tiny"}, expect=413, code="too_large", body_invalid=True)
    post(gw, "/v1/explain", {"inputs": "word " * 100, "model": "tiny", "truncate": False}, expect=413, code="too_large")
    post(gw, "/v1/explain", {"inputs": "x" * 70_000, "model": "tiny"}, expect=413, code="too_large")
    post(gw, "/v1/explain", raw=TOO_BIG, expect=413, code="too_large")
    post(gw, "/v1/explain", {"inputs": "x", "model": "tiny"}, headers=TEXT_PLAIN, expect=415, code="bad_request")
    post(gw, "/v1/explain", {"inputs": "x"}, expect=422, code="unsupported")  # minilm has no head, and no labels
    post(gw, "/v1/explain", {"inputs": "x", "model": "tiny", "deadline_ms": 0}, expect=504, code="deadline_exceeded")
    post(gw, "/v1/explain", {"inputs": "x", "model": "tiny", "method": "attention", "deadline_ms": 0}, expect=504,
         code="deadline_exceeded")


@exercises
def test_tei_predict(gw):
    single = post(gw, "/predict", {"inputs": "what a film", "model": "tiny"}, expect=200)
    assert [set(d) for d in single] == [{"label", "score"}] * 3
    batch = post(gw, "/predict", {"inputs": ["one", "two"], "model": "tiny", "raw_scores": True}, expect=200)
    assert len(batch) == 2 and all(len(b) == 3 for b in batch)
    post(gw, "/predict", {"inputs": "word " * 100, "model": "tiny", "truncate": True}, expect=200)
    for body in [{"model": "tiny"}, {"inputs": [["a", "b"]], "model": "tiny"}, {"inputs": [], "model": "tiny"},
                 {"inputs": "x", "model": "tiny", "raw_scores": "yes"}, {"inputs": "x", "model": "tiny", "truncate": 1}]:
        post(gw, "/predict", body, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/predict", {"inputs": "x", "model": "nope"}, expect=404, code="unknown_model")
    post(gw, "/predict", {"inputs": "word " * 100, "model": "tiny"}, expect=413, code="too_large")  # TEI: no truncation by default
    post(gw, "/predict", raw=TOO_BIG, expect=413, code="too_large")
    post(gw, "/predict", {"inputs": "x", "model": "tiny"}, headers=TEXT_PLAIN, expect=415, code="bad_request")
    post(gw, "/predict", {"inputs": "x"}, expect=422, code="unsupported")
    # deadline_ms is not read on /predict (so it never answers 504).
    post(gw, "/predict", {"inputs": "x", "model": "tiny", "deadline_ms": 0}, expect=200)


@exercises
def test_tei_embed(gw):
    vectors = post(gw, "/embed", {"inputs": ["hello", "world"], "normalize": True}, expect=200)
    assert len(vectors) == 2 and len(vectors[0]) == 384
    assert len(post(gw, "/embed", {"inputs": "hello", "model": "tiny"}, expect=200)[0]) == 32
    for body in [{}, {"inputs": "x", "normalize": "no"}, {"inputs": "x", "labels": ["a"]}, {"inputs": "x", "texts": ["y"]}]:
        post(gw, "/embed", body, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/embed", {"inputs": "x", "model": "nope"}, expect=404, code="unknown_model")
    post(gw, "/embed", {"inputs": "word " * 600}, expect=413, code="too_large")  # TEI: no truncation by default
    post(gw, "/embed", raw=TOO_BIG, expect=413, code="too_large")
    post(gw, "/embed", {"inputs": "x"}, headers=TEXT_PLAIN, expect=415, code="bad_request")
    post(gw, "/embed", {"inputs": "x", "normalize": False}, expect=422, code="unsupported", body_invalid=True)
    post(gw, "/embed", {"inputs": "x", "deadline_ms": 0}, expect=504, code="deadline_exceeded")


@exercises
def test_openai_embeddings(gw):
    r = post(gw, "/v1/embeddings", {"input": ["first text", "second"], "model": "minilm", "encoding_format": "float", "user": "u1"},
             expect=200)
    assert [d["index"] for d in r["data"]] == [0, 1] and r["usage"]["prompt_tokens"] > 0
    post(gw, "/v1/embeddings", {"input": "x", "dimensions": None}, expect=200)
    for body in [{}, {"inputs": "x"}, {"input": [[1, 2, 3]]}, {"input": "x", "encoding_format": 5}, {"input": "x", "labels": ["a"]}]:
        post(gw, "/v1/embeddings", body, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/v1/embeddings", {"input": "x", "model": "gpt-4"}, expect=404, code="unknown_model")
    post(gw, "/v1/embeddings", {"input": MANY}, expect=413, code="too_large")
    post(gw, "/v1/embeddings", raw=TOO_BIG, expect=413, code="too_large")
    post(gw, "/v1/embeddings", {"input": "x"}, headers=TEXT_PLAIN, expect=415, code="bad_request")
    post(gw, "/v1/embeddings", {"input": "x", "encoding_format": "base64"}, expect=422, code="unsupported", body_invalid=True)
    post(gw, "/v1/embeddings", {"input": "x", "dimensions": 64}, expect=422, code="unsupported", body_invalid=True)
    post(gw, "/v1/embeddings", {"input": "x", "deadline_ms": 0}, expect=504, code="deadline_exceeded")


@exercises
def test_load_and_unload(gw):
    loaded = post(gw, "/v1/load", {"name": "openapi-tiny", "path": TINY}, admin=True, expect=200)["loaded"]
    assert loaded["name"] == "openapi-tiny" and loaded["can_classify"]
    post(gw, "/v1/classify", {"inputs": "x", "model": "openapi-tiny"}, admin=True, expect=200)  # public routes on the admin listener
    get(gw, "/healthz", admin=True, expect=200)
    for body in [{"name": "x"}, {"path": TINY}, {"name": 5, "path": TINY}]:
        post(gw, "/v1/load", body, admin=True, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/v1/load", raw=TOO_BIG, admin=True, expect=413, code="too_large")
    post(gw, "/v1/load", {"name": "x", "path": TINY}, admin=True, headers=TEXT_PLAIN, expect=415, code="bad_request")
    post(gw, "/v1/load", {"name": "bad", "path": "/nonexistent/model"}, admin=True, expect=422, code="load_failed")
    assert post(gw, "/v1/unload", {"name": "openapi-tiny"}, admin=True, expect=200)["unloaded"]["name"] == "openapi-tiny"
    post(gw, "/v1/unload", {}, admin=True, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/v1/unload", {"name": "openapi-tiny"}, admin=True, expect=404, code="unknown_model")
    post(gw, "/v1/unload", raw=TOO_BIG, admin=True, expect=413, code="too_large")
    post(gw, "/v1/unload", {"name": "x"}, admin=True, headers=TEXT_PLAIN, expect=415, code="bad_request")


# MARK: the web console

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#c03030"/></svg>'


def png(rgb=(48, 80, 192)):
    """A real 1×1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes([0, *rgb]))) + chunk(b"IEND", b""))


# Not a whole JPEG: the gateway sends the file as it is, whatever its bytes (none of them UTF-8 here).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def pictured_model(directory, pictures):
    """A copy of TINY (labels neg, neu, pos) with label_images/ holding {file name: bytes or text}."""
    shutil.copytree(TINY, directory)
    os.makedirs(os.path.join(directory, "label_images"))
    for name, data in pictures.items():
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(os.path.join(directory, "label_images", name), mode) as f:
            f.write(data)
    return str(directory)


def picture(gw, path, *, admin=False, headers=None):
    """(Content-Type without parameters, bytes) of a label picture answered 200, checked against the document."""
    result = request(gw, "GET", path, admin=admin, headers=headers)
    check("GET", path, result, admin=admin)
    status, received, media, body = result
    assert status == 200 and isinstance(body, bytes), (path, status, body)
    assert received.get("Cache-Control") == "max-age=60", received
    return media.split(";")[0].strip(), body


@exercises
def test_console_page_and_assets(gw):
    """The page and its two assets on both listeners, with their types; the page loads its own
    script and style, and none of the three refers to another site (the console works offline)."""
    for admin in (False, True):
        assets = {}
        for path, media in [("/", "text/html"), ("/console.css", "text/css"), ("/console.js", "text/javascript")]:
            result = request(gw, "GET", path, admin=admin)
            assets[path] = check("GET", path, result, admin=admin)
            status, headers, received, _ = result
            assert status == 200 and received == f"{media}; charset=utf-8", (path, status, received)
            assert headers.get("Cache-Control") == "no-cache", (path, headers)
        page, style, script = assets["/"], assets["/console.css"], assets["/console.js"]
        assert '<script src="/console.js"></script>' in page and '<link rel="stylesheet" href="/console.css">' in page
        assert "label_images" in script and "/v1/classify" in script and style.strip()
        for path, text in assets.items():
            remote = re.findall(r"https?://[^\s\"'`)<>]*", text)
            assert not remote, f"{path} refers to other sites (the console must work offline): {remote}"
        assert get(gw, "//console.js/", admin=admin, expect=200) == script  # empty segments are ignored


@exercises
def test_label_images(gw, tmp_path):
    """A model's label pictures, from label_images/ of its directory: .png, .jpg, .jpeg, .svg in that
    order (the first at most 8 MiB), each with its type; only the labels of the model."""
    pos_png, neg_png = png((192, 48, 48)), png()
    model = pictured_model(tmp_path / "pictured", {"pos.svg": SVG, "neg.png": neg_png, "neu.jpeg": JPEG})
    images = os.path.join(model, "label_images")
    post(gw, "/v1/load", {"name": "openapi-pictured", "path": model}, admin=True, expect=200)
    base = "/v1/models/openapi-pictured/label_images/"
    try:
        for admin in (False, True):
            assert picture(gw, base + "pos", admin=admin) == ("image/svg+xml", SVG.encode())
            assert picture(gw, base + "neg", admin=admin) == ("image/png", neg_png)
            assert picture(gw, base + "neu", admin=admin) == ("image/jpeg", JPEG)
        assert picture(gw, "/v1/models/openapi%2Dpictured/label_images/%70os") == ("image/svg+xml", SVG.encode())  # escapes decoded
        # Read at each request: the first of .png, .jpg, .jpeg, .svg.
        with open(os.path.join(images, "pos.png"), "wb") as f:
            f.write(pos_png)
        assert picture(gw, base + "pos") == ("image/png", pos_png)
        with open(os.path.join(images, "neu.jpg"), "wb") as f:
            f.write(JPEG + b"jpg")
        assert picture(gw, base + "neu") == ("image/jpeg", JPEG + b"jpg")
        # Over 8 MiB a file is passed over: the next one, or none.
        with open(os.path.join(images, "neg.png"), "wb") as f:
            f.write(neg_png + b"\0" * (8 * MIB))
        with open(os.path.join(images, "neg.svg"), "w") as f:
            f.write(SVG)
        assert picture(gw, base + "neg") == ("image/svg+xml", SVG.encode())
        os.remove(os.path.join(images, "neg.svg"))
        get(gw, base + "neg", expect=404, code="unknown_op")
        # No picture for a label: 404 unknown_op; nor for what is not a label of the model.
        for name in ["neu.jpg", "neu.jpeg"]:
            os.remove(os.path.join(images, name))
        for admin in (False, True):
            get(gw, base + "neu", admin=admin, expect=404, code="unknown_op")
            get(gw, base + "happy", admin=admin, expect=404, code="unknown_op")
        for label in ["pos.svg", "pos.png", "POS", "..%2Fconfig.json", "%2E%2E", "label_images%2Fpos"]:
            get(gw, base + label, expect=404, code="unknown_op")
        get(gw, "/v1/models/tiny/label_images/pos", expect=404, code="unknown_op")    # no label_images/
        get(gw, "/v1/models/minilm/label_images/pos", expect=404, code="unknown_op")  # no head, no labels
        for admin in (False, True):
            get(gw, "/v1/models/nope/label_images/pos", admin=admin, expect=404, code="unknown_model")
    finally:
        post(gw, "/v1/unload", {"name": "openapi-pictured"}, admin=True, expect=200)
    get(gw, base + "pos", expect=404, code="unknown_model")  # unloaded


def write_training_data(path, count=120):
    words = ["good", "bad", "fine", "poor", "great", "awful"]
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for i in range(count):
            f.write(f"the film was {words[i % 6]} {i}\t{['pos', 'neg'][i % 2]}\n")
    return str(path)


def wait_for_final(gw, job):
    return wait_until(lambda: (lambda j: j if j["state"] in ("finished", "failed", "cancelled") else None)(
        get(gw, f"/v1/jobs/{job}", admin=True, expect=200)["job"]), timeout_s=120, interval_s=0.1, what=f"job {job} done")


@exercises
def test_training_jobs(gw, tmp_path):
    data = write_training_data(tmp_path / "train.tsv")
    assert get(gw, "/v1/jobs", admin=True, expect=200) == {"jobs": []}
    job = post(gw, "/v1/train", {"name": "openapi-trained", "model": "tiny", "train": data, "options": {"epochs": 1, "batch_size": 16}},
               admin=True, expect=200)["job"]
    assert job["state"] == "queued"
    assert wait_for_final(gw, job["id"])["state"] == "finished"
    assert [j["id"] for j in get(gw, "/v1/jobs", admin=True, expect=200)["jobs"]] == [job["id"]]
    post(gw, f"/v1/jobs/{job['id']}/cancel", admin=True, expect=400, code="bad_request")  # already finished
    # A long job, cancelled whether it is still queued or already running.
    long = post(gw, "/v1/train", {"name": "openapi-long", "model": "tiny", "train": data, "options": {"epochs": 300, "batch_size": 4}},
                admin=True, expect=200)["job"]
    cancelled = post(gw, f"/v1/jobs/{long['id']}/cancel", None, admin=True, headers=TEXT_PLAIN, expect=200)["job"]  # body not read
    assert cancelled["cancel_requested"]
    assert wait_for_final(gw, long["id"])["state"] == "cancelled"
    for body in [{"name": "x"}, {"train": data}, {"name": "x", "train": data, "options": {"bogus": 1}},
                 {"name": "x", "train": data, "options": {"epochs": "many"}}, {"name": "x", "train": data, "validation": 5}]:
        post(gw, "/v1/train", body, admin=True, expect=400, code="bad_request", body_invalid=True)
    post(gw, "/v1/train", {"name": "x", "train": "relative.tsv"}, admin=True, expect=400, code="bad_request")
    post(gw, "/v1/train", {"name": "x", "train": "/nonexistent/train.tsv"}, admin=True, expect=400, code="bad_request")
    post(gw, "/v1/train", {"name": "x", "model": "nope", "train": data}, admin=True, expect=404, code="unknown_model")
    post(gw, "/v1/train", raw=TOO_BIG, admin=True, expect=413, code="too_large")
    post(gw, "/v1/train", {"name": "x", "train": data}, admin=True, headers=TEXT_PLAIN, expect=415, code="bad_request")
    get(gw, "/v1/jobs/nope", admin=True, expect=404, code="unknown_job")
    post(gw, "/v1/jobs/nope/cancel", admin=True, expect=404, code="unknown_job")


def test_event_stream(gw):
    """/v1/events never ends by itself: read its head and first line, then hang up."""
    conn = UnixHTTPConnection(gw.admin_socket, 60)
    try:
        conn.request("GET", "/v1/events?topic=job.")
        r = conn.getresponse()
        first = r.readline().decode()
        assert first.startswith(": bertd events job."), first
        check("GET", "/v1/events", (r.status, dict(r.getheaders()), r.getheader("Content-Type", ""), first), admin=True)
    finally:
        conn.close()


def test_admin_routes_are_unknown_on_the_public_listener(gw):
    for method, template, op, _ in operations():
        if "admin" in op["tags"]:
            unknown_route(gw, method, concrete(template))


def test_other_methods_get_405_and_other_paths_404(gw):
    for method, template, op, _ in operations():
        path = concrete(template)
        for other in METHODS:
            if other not in DOC["paths"][template]:
                wrong_method(gw, other.upper(), template, admin=True)
                if "admin" not in op["tags"]:
                    wrong_method(gw, other.upper(), template)
    for path in ["/v1", "/v2/classify", "/console", "/console.html", "/index.html", "/v1/models/tiny/label_images",
                 "/v1/models/tiny/label_images/pos/x", "/V1/models", "/v1/classify/x", "/v1/jobs/1/2", "/metric", "/v1/predict"]:
        unknown_route(gw, "GET", path, admin=True)
        unknown_route(gw, "POST", path, admin=True)


INFERENCE_CALLS = [("/v1/classify", {"inputs": "x", "labels": ["a", "b"]}), ("/v1/embed", {"inputs": "x"}),
                   ("/v1/explain", {"inputs": "x", "model": "tiny", "steps": 2}), ("/predict", {"inputs": "x", "model": "tiny"}),
                   ("/embed", {"inputs": "x"}), ("/v1/embeddings", {"input": "x"})]


@exercises
def test_overload_then_shutdown():
    """One daemon with a tiny queue: a big request holds the queue, so every inference route gets
    429; then SIGTERM, and while that request drains every route answers as documented."""
    g = Gateway(sets=["batching.max_queue_tokens=64", "batching.max_batch_tokens=256"], name="bertd-openapi-drain")
    try:
        blocker_body = {"inputs": [f"queued sentence {i} " + "with quite a few words " * 10 for i in range(250)]}
        held = []
        blocker = threading.Thread(target=lambda: held.append(request(g, "POST", "/v1/embed", blocker_body, timeout=120)))
        blocker.start()
        wait_until(lambda: get(g, "/v1/status")["queue"]["texts"] > 0, what="the big request queued")
        for path, body in INFERENCE_CALLS:
            post(g, path, body, expect=429, code="overloaded")
        assert get(g, "/v1/status")["queue"]["texts"] > 0, "the queue drained during the test: make the big request bigger"

        g.daemon.proc.send_signal(signal.SIGTERM)
        g.daemon.wait_for_log(r"stopping: \d+ requests in flight")
        assert get(g, "/readyz", expect=503) == {"status": "stopping"}
        get(g, "/healthz", expect=200)
        get(g, "/metrics", expect=200)
        get(g, "/v1/status", expect=200)
        get(g, "/v1/models", expect=503, code="unavailable")
        for path, body in INFERENCE_CALLS:
            post(g, path, body, expect=503, code="unavailable")
        post(g, "/v1/load", {"name": "late", "path": TINY}, admin=True, expect=503, code="unavailable")
        post(g, "/v1/unload", {"name": "tiny"}, admin=True, expect=503, code="unavailable")
        post(g, "/v1/train", {"name": "late", "train": "/nonexistent/train.tsv"}, admin=True, expect=503, code="unavailable")
        get(g, "/v1/jobs", admin=True, expect=503, code="unavailable")
        get(g, "/v1/jobs/1", admin=True, expect=503, code="unavailable")
        post(g, "/v1/jobs/1/cancel", admin=True, expect=503, code="unavailable")
        assert g.daemon.alive(), "bertd stopped before the routes were checked: make the big request bigger"
        blocker.join(120)
        assert held, "the big request got no answer"
        check("POST", "/v1/embed", held[0], admin=False, sent=blocker_body)
        assert held[0][0] in (200, 503), held[0][0]
    finally:
        stop_and_check(g.daemon)


@exercises
def test_bearer_tokens(tmp_path):
    """Tokens files on both listeners: every documented route but the probes is 401 (no body,
    `WWW-Authenticate: Bearer`) without a valid token of its listener, and answers with one."""
    (tmp_path / "public").write_text("# public clients\npublic-token\n")
    (tmp_path / "admin").write_text("admin-token\n")
    model = pictured_model(tmp_path / "pictured", {"pos.svg": SVG})
    g = Gateway(sets=[f"http.tokens_file={tmp_path / 'public'}", f"http.admin_tokens_file={tmp_path / 'admin'}",
                      f"models.pictured.path={model}"], name="bertd-openapi-tokens")
    try:
        public, admin = {"Authorization": "Bearer public-token"}, {"Authorization": "Bearer admin-token"}
        for method, template, op, _ in operations():
            path = concrete(template)
            for on_admin in ([True] if "admin" in op["tags"] else [False, True]):
                wrong = public if on_admin else admin  # the other listener's token
                for headers in [{}, {"Authorization": "Bearer nope"}, wrong, {"Authorization": "Basic cHVibGljLXRva2Vu"}]:
                    body = {} if method == "POST" else None
                    if "401" in op["responses"]:
                        result = request(g, method, path, body, admin=on_admin, headers=headers)
                        check(method, path, result, admin=on_admin, sent=body)
                        assert result[0] == 401 and result[1].get("WWW-Authenticate") == "Bearer", (method, path, on_admin, result)
                    else:
                        call(g, method, path, body, admin=on_admin, headers=headers, expect=200)
        # With the listener's token, the same routes answer.
        get(g, "/v1/models", headers=public, expect=200)
        get(g, "/metrics", headers=public, expect=200)
        post(g, "/v1/explain", {"inputs": "x", "model": "tiny", "steps": 2}, headers=public, expect=200)
        get(g, "/v1/jobs", admin=True, headers=admin, expect=200)
        post(g, "/v1/classify", {"inputs": "x", "model": "tiny"}, admin=True, headers=admin, expect=200)
        # Label pictures need the token (the loop above had their 401s); the console's page and assets do not.
        for on_admin, token, wrong in [(False, public, admin), (True, admin, public)]:
            assert picture(g, "/v1/models/pictured/label_images/pos", admin=on_admin, headers=token) == ("image/svg+xml", SVG.encode())
            get(g, "/v1/models/pictured/label_images/neg", admin=on_admin, headers=token, expect=404, code="unknown_op")
            get(g, "/v1/models/nope/label_images/pos", admin=on_admin, headers=token, expect=404, code="unknown_model")
            get(g, "/v1/models/pictured/label_images/pos", admin=on_admin, headers=wrong, expect=401)
            get(g, "/v1/models/nope/label_images/pos", admin=on_admin, expect=401)  # before routing
            for path in ["/", "/console.css", "/console.js", "//", "/console.js/"]:
                get(g, path, admin=on_admin, expect=200)
        # Unknown routes (admin ones on the public listener included) are 401 before routing; 404 with a token.
        for path in ["/nope", "/v1/jobs"]:
            status, headers, _, payload = request(g, "GET", path)
            assert status == 401 and payload == "", (path, status, payload)
            status, _, _, payload = request(g, "GET", path, headers=public)
            assert status == 404 and payload["error"]["code"] == "unknown_op", (path, status, payload)
    finally:
        stop_and_check(g.daemon)


def test_the_probes_stay_open_with_tokens_whatever_the_empty_segments(tmp_path):
    (tmp_path / "public").write_text("public-token\n")
    g = Gateway(sets=[f"http.tokens_file={tmp_path / 'public'}"], name="bertd-openapi-probes")
    try:
        for path in ["/healthz", "/readyz", "/healthz/", "//readyz"]:
            status, _, _, payload = request(g, "GET", path)
            assert status == 200, (path, status, payload)
    finally:
        stop_and_check(g.daemon)


# MARK: coverage

def test_every_documented_route_and_status_was_exercised():
    if EXERCISERS - DONE:
        pytest.skip(f"needs the whole module; not run to their end: {sorted(EXERCISERS - DONE)}")
    missing = []
    for method, template, op, _ in operations():
        for status in map(int, op["responses"]):
            if (method, template, status) in SEEN:
                continue
            if status == 500 or (method, template, status) in UNREACHABLE:
                continue
            missing.append(f"{method} {template} {status}")
    assert not missing, f"documented but never answered: {missing}"
    for (method, template, status), why in UNREACHABLE.items():
        assert str(status) in DOC["paths"][template][method.lower()]["responses"], (method, template, status, why)
    for method, template, op, _ in operations():
        if "500" in op["responses"]:
            assert deref(op["responses"]["500"], "")[0] == at("/components/responses/Internal"), INTERNAL
