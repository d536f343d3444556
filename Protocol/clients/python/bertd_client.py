"""A small client for the bertd protocol (Protocol/PROTOCOL.md), with pyzmq as its only dependency.

    from bertd_client import BertdClient, BertdError, BertdUnavailable

    client = BertdClient("tcp://127.0.0.1:5555")
    reply = client.classify(["a gripping, funny film"], labels=["positive", "negative"])
    print(reply["results"][0]["label"])

Every method returns the reply's ``result`` object (a dict, as documented in PROTOCOL.md).
An error reply raises ``BertdError(code, message)``; no reply within ``timeout_ms`` after
``retries`` retries raises ``BertdUnavailable``.

Events (model loaded/unloaded, training jobs) come from the daemon's PUB socket:

    with BertdEvents("ipc:///run/bertd/events.sock", topics=["model."]) as events:
        for topic, event in events:          # or events.next(timeout_ms=1000) -> None on timeout
            print(topic, event["model"])

Reliability is the "Lazy Pirate" pattern: a REQ socket, a poll with a timeout, and on timeout
the socket is closed (linger 0) and a new one is opened for the retry. Only idempotent operations
(classify, embed, explain, models, status, ping, jobs) are retried; load, unload, train and cancel
are sent once, because after a timeout their outcome is unknown.
"""

import itertools
import json
import os
import random
import time

import zmq

__all__ = ["BertdClient", "BertdEvents", "BertdError", "BertdUnavailable", "PROTOCOL_VERSION", "IDEMPOTENT_OPS"]

PROTOCOL_VERSION = 1
# Safe to resend after a timeout: mirrors Op.isIdempotent in Sources/BertProtocol/Op.swift (a Swift test
# holds the two equal).
IDEMPOTENT_OPS = frozenset({"classify", "embed", "explain", "models", "status", "ping", "jobs"})


class BertdError(Exception):
    """The daemon answered with an error reply: a stable ``code`` and a human ``message``."""

    def __init__(self, code, message, reply=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reply = reply


class BertdUnavailable(Exception):
    """No reply within the timeout, after every allowed retry (the daemon is down or unreachable)."""


class BertdClient:
    """A REQ client of one bertd endpoint.

    endpoint   -- e.g. "tcp://127.0.0.1:5555" or "ipc:///run/bertd/bertd.sock"
    timeout_ms -- how long to wait for each reply
    retries    -- how many times an idempotent request is sent again after a timeout
    curve      -- None, or a dict {"server_key": …, "public_key": …, "secret_key": …} of Z85 keys
                  (str or bytes) for an endpoint with CurveZMQ
    overload_retries -- how many times a request answered ``overloaded`` is sent again, after an
                  exponential backoff with jitter (0: raise BertdError("overloaded", …) at once)
    context    -- a zmq.Context to use (default: a new one, closed by close())
    """

    def __init__(self, endpoint, timeout_ms=5000, retries=2, curve=None, overload_retries=0, context=None):
        self.endpoint = endpoint
        self.timeout_ms = timeout_ms
        self.retries = retries
        self.curve = curve
        self.overload_retries = overload_retries
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._socket = None
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid()}-{random.getrandbits(32):08x}"

    # MARK: operations

    def classify(self, texts, model=None, labels=None, pairs=None, top_k=None, deadline_ms=None, truncate=True):
        """Classifies one text (a str) or many (a list). With ``labels``, zero-shot with an embedding model."""
        body = self._texts_body("classify", texts, model, deadline_ms, truncate)
        if labels is not None:
            body["labels"] = list(labels)
        if pairs is not None:
            body["pairs"] = [pairs] if isinstance(pairs, str) else list(pairs)
        if top_k is not None:
            body["top_k"] = top_k
        return self.request(body)

    def embed(self, texts, model=None, pairs=None, deadline_ms=None, truncate=True):
        """Sentence embeddings (the model's pooling; L2-normalised for sentence-transformers models)."""
        body = self._texts_body("embed", texts, model, deadline_ms, truncate)
        if pairs is not None:
            body["pairs"] = [pairs] if isinstance(pairs, str) else list(pairs)
        return self.request(body)

    def explain(self, texts, model=None, label=None, method=None, steps=None, rule=None, baseline=None,
                layers=None, heads=None, pairs=None, deadline_ms=None, truncate=None, labels=None):
        """Why a classifier (a model with a head) classifies one text (a str) or up to 16 (a list)
        as it does. ``method``: "integrated_gradients" (the default: per-token and per-word
        attributions of ``label``'s logit — a label name or a list of them; default the predicted
        label — with ``steps``, ``rule`` and ``baseline``), "attention" (the attention maps, only
        ``layers``/``heads`` if given) or "rollout". With ``labels`` (candidate labels, as for
        ``classify``), any model is explained zero-shot: integrated gradients of the cosine
        similarity of the text's sentence embedding with each candidate's (``label`` then names
        candidates; default the most similar). Unset arguments take the daemon's defaults.
        Each text costs 2 + steps sequences of work (steps more per extra label, one more per
        candidate in ``labels``): give ``timeout_ms`` room for it."""
        body = self._texts_body("explain", texts, model, deadline_ms, True)
        if truncate is not None:
            body["truncate"] = bool(truncate)
        if pairs is not None:
            body["pairs"] = [pairs] if isinstance(pairs, str) else list(pairs)
        if labels is not None:
            body["labels"] = list(labels)
        if label is not None:
            body["label"] = label if isinstance(label, str) else list(label)
        for key, value in (("method", method), ("steps", steps), ("rule", rule), ("baseline", baseline)):
            if value is not None:
                body[key] = value
        if layers is not None:
            body["layers"] = list(layers)
        if heads is not None:
            body["heads"] = list(heads)
        return self.request(body)

    def models(self):
        return self.request({"op": "models"})

    def status(self):
        return self.request({"op": "status"})

    def ping(self):
        return self.request({"op": "ping"})

    def load(self, name, path, precision=None, force=False, long_documents=None, timeout_ms=None):
        """Loads (or replaces, hot) the model directory ``path`` under ``name``. Admin endpoint only.
        ``precision="int8"`` needs a passed quality gate in the directory (bertctl quantize) unless ``force``.
        ``long_documents={"window": 512, "stride": 128, "aggregate": "mean"}`` (any of the three) reads
        long texts in windows; left out, the model's config.json decides."""
        body = {"op": "load", "name": name, "path": path}
        if precision is not None:
            body["precision"] = precision
        if force:
            body["force"] = True
        if long_documents is not None:
            body["long_documents"] = long_documents
        return self.request(body, timeout_ms=timeout_ms)

    def unload(self, name, timeout_ms=None):
        return self.request({"op": "unload", "name": name}, timeout_ms=timeout_ms)

    # MARK: plumbing

    def request(self, body, timeout_ms=None):
        """Sends one request (a dict with at least "op"); returns its result or raises."""
        op = body.get("op")
        attempts = 1 + (self.retries if op in IDEMPOTENT_OPS else 0)
        timeout = self.timeout_ms if timeout_ms is None else timeout_ms
        overloads = 0
        while True:
            request = dict(body)
            request.setdefault("v", PROTOCOL_VERSION)
            request["id"] = f"{self._prefix}-{next(self._ids)}"
            reply = self._exchange(request, attempts, timeout)
            if reply.get("ok"):
                return reply.get("result")
            error = reply.get("error") or {}
            code, message = error.get("code", "internal"), error.get("message", "")
            if code == "overloaded" and overloads < self.overload_retries:
                time.sleep(min(2.0, 0.05 * 2 ** overloads) * (0.5 + random.random()))
                overloads += 1
                continue
            raise BertdError(code, message, reply)

    def _exchange(self, request, attempts, timeout):
        payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
        for attempt in range(attempts):
            socket = self._connected()
            socket.send(payload)
            until = time.monotonic() + timeout / 1000
            while True:
                left = until - time.monotonic()
                if left <= 0 or not socket.poll(max(1, int(left * 1000)), zmq.POLLIN):
                    break
                reply = json.loads(socket.recv())
                if reply.get("id") == request["id"]:
                    return reply
                # A REQ socket cannot receive another request's reply; a broken proxy could.
                # Without a matching reply the REQ state machine is stuck: start over.
                break
            # Lazy Pirate: the REQ socket is now in the wrong state; throw it away.
            self._discard()
        raise BertdUnavailable(
            f"no reply from {self.endpoint} to {request.get('op')!r} within {timeout} ms"
            + (f" ({attempts} attempts)" if attempts > 1 else "")
            + ("" if request.get("op") in IDEMPOTENT_OPS else "; the request may or may not have been carried out"))

    def _texts_body(self, op, texts, model, deadline_ms, truncate):
        body = {"op": op, "texts": [texts] if isinstance(texts, str) else list(texts)}
        if model is not None:
            body["model"] = model
        if deadline_ms is not None:
            body["deadline_ms"] = deadline_ms
        if not truncate:
            body["truncate"] = False
        return body

    def _connected(self):
        if self._socket is None:
            socket = self._context.socket(zmq.REQ)
            socket.linger = 0
            if self.curve:
                socket.curve_serverkey = _key(self.curve["server_key"])
                socket.curve_publickey = _key(self.curve["public_key"])
                socket.curve_secretkey = _key(self.curve["secret_key"])
            socket.connect(self.endpoint)
            self._socket = socket
        return self._socket

    def _discard(self):
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def close(self):
        self._discard()
        if self._own_context:
            self._context.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BertdEvents:
    """A subscription to bertd's events socket. Each event is ``(topic, object)``; the object has
    ``event`` (= topic), ``time`` and the event's fields (PROTOCOL.md, "Events").

    PUB/SUB drops what a subscriber was not connected for: the subscription needs a moment to
    reach the daemon after connecting (``settle_s``), and events published before are not seen.

    topics   -- topic prefixes to receive (default: all)
    settle_s -- seconds to wait after connecting, so the subscription is in place on return
    """

    def __init__(self, endpoint, topics=("",), settle_s=0.3, context=None):
        self.endpoint = endpoint
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.linger = 0
        for topic in topics:
            self._socket.subscribe(topic.encode("utf-8") if isinstance(topic, str) else topic)
        self._socket.connect(endpoint)
        if settle_s:
            time.sleep(settle_s)

    def next(self, timeout_ms=None):
        """The next event as (topic, object), or None when none came within timeout_ms."""
        while True:
            if not self._socket.poll(timeout_ms if timeout_ms is not None else -1):
                return None
            frames = self._socket.recv_multipart()
            if len(frames) == 2:  # anything else is not a bertd event: skip it
                return frames[0].decode("utf-8"), json.loads(frames[1])

    def __iter__(self):
        while True:
            yield self.next()

    def close(self):
        self._socket.close(linger=0)
        if self._own_context:
            self._context.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _key(value):
    return value.encode("ascii") if isinstance(value, str) else value
