"""Fixtures for the protocol tests: real bertd processes and temporary ipc paths.

Every tcp listener binds tcp://127.0.0.1:* (the OS chooses the port); the endpoints bertd actually
bound are read back from its ready line. The binaries come from .build/release (BERTD_BIN /
BERTCTL_BIN override); nothing is built here. Every daemon is stopped with SIGTERM and must exit
with status 0. Nothing waits a fixed time for something to happen: waits poll a condition (a
reply, a log line, an event, the process's exit) with a generous timeout.
"""

import collections
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL = os.path.dirname(HERE)
REPO = os.path.dirname(PROTOCOL)
sys.path.insert(0, os.path.join(PROTOCOL, "clients", "python"))

from bertd_client import BertdClient, BertdEvents  # noqa: E402

BERTD = os.environ.get("BERTD_BIN", os.path.join(REPO, ".build", "release", "bertd"))
MINILM = os.environ.get("BERTD_TEST_MODEL", os.path.join(REPO, "models", "all-MiniLM-L6-v2"))
TINY = os.path.join(REPO, "Tests", "BertCoreTests", "Fixtures", "tiny-bert")
SST2_DEV = os.path.join(os.path.dirname(REPO), "shared", "data", "sst2", "dev.tsv")
IN_CI = os.environ.get("CI") == "true"
MIB = 1024 * 1024


def missing(what):
    """Skips with a message, except in CI, where a missing prerequisite is a failure."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: not skipping)")
    pytest.skip(what)


# MARK: schemas

def _load_schemas():
    schemas = {}
    for path in glob.glob(os.path.join(PROTOCOL, "schemas", "*.schema.json")):
        with open(path) as f:
            schema = json.load(f)
        schemas[os.path.basename(path)[: -len(".schema.json")]] = schema
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    validators = {name: Draft202012Validator(s, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
                  for name, s in schemas.items()}
    return validators


SCHEMAS = _load_schemas()


def check_reply(reply, op=None, request_id=None):
    """Parses (if bytes) and validates a reply against reply.schema.json, then its result against
    <op>.result.schema.json or error.schema.json. Returns the reply as a dict."""
    if isinstance(reply, (bytes, bytearray)):
        reply = json.loads(reply.decode("utf-8"))
    SCHEMAS["reply"].validate(reply)
    if reply["ok"]:
        if op is not None:
            SCHEMAS[f"{op}.result"].validate(reply["result"])
    else:
        SCHEMAS["error"].validate(reply)
    if request_id is not None:
        assert reply["id"] == request_id
    return reply


def check_event(frames):
    assert len(frames) == 2, frames
    topic, body = frames[0].decode(), json.loads(frames[1])
    SCHEMAS["event"].validate(body)
    assert body["event"] == topic
    return body


def expect_error(reply, code, request_id=None):
    reply = check_reply(reply, request_id=request_id)
    assert not reply["ok"], reply
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    return reply


# MARK: raw sockets

CTX = zmq.Context.instance()


def req(endpoint, body, timeout_ms=20000, curve=None):
    """One REQ round trip; body is bytes or a dict. Returns the reply bytes, or None on timeout."""
    s = CTX.socket(zmq.REQ)
    s.linger = 0
    if curve:
        s.curve_serverkey, s.curve_publickey, s.curve_secretkey = curve
    s.connect(endpoint)
    try:
        s.send(body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode())
        if not s.poll(timeout_ms, zmq.POLLIN):
            return None
        return s.recv()
    finally:
        s.close(linger=0)


def dealer(endpoint, frames, timeout_ms=20000):
    """Sends a multipart message from a DEALER; returns the reply's frames, or None on timeout."""
    s = CTX.socket(zmq.DEALER)
    s.linger = 0
    s.connect(endpoint)
    try:
        s.send_multipart(frames)
        if not s.poll(timeout_ms, zmq.POLLIN):
            return None
        return s.recv_multipart()
    finally:
        s.close(linger=0)


def status(daemon):
    return check_reply(req(daemon.tcp, {"id": "status", "op": "status"}), "status", "status")["result"]


def wait_until(condition, timeout_s=60, interval_s=0.01, what="the condition"):
    """Polls `condition` until it returns something true, and returns that; fails after timeout_s."""
    until = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > until:
            pytest.fail(f"{what}: not reached within {timeout_s} s")
        time.sleep(interval_s)


HANDSHAKE_FAILED = {zmq.EVENT_HANDSHAKE_FAILED_AUTH, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL}


def req_watching_connection(endpoint, body, timeout_ms=30000, curve=None):
    """One REQ request, watched by a socket monitor. Returns (reply, events): the reply bytes, or None
    once the connection was refused at the handshake or dropped (nothing waits for a reply that
    cannot come); events lists the monitor's events (zmq.EVENT_*). Fails if neither happens within
    timeout_ms."""
    s = CTX.socket(zmq.REQ)
    s.linger = 0
    if curve:
        s.curve_serverkey, s.curve_publickey, s.curve_secretkey = curve
    monitor = s.get_monitor_socket()
    events = []
    try:
        s.connect(endpoint)
        s.send(body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode())
        poller = zmq.Poller()
        poller.register(s, zmq.POLLIN)
        poller.register(monitor, zmq.POLLIN)
        until = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < until:
            ready = dict(poller.poll(max(1, int((until - time.monotonic()) * 1000))))
            if s in ready:
                return s.recv(), events
            if monitor in ready:
                events.append(recv_monitor_message(monitor)["event"])
                if events[-1] in HANDSHAKE_FAILED or events[-1] == zmq.EVENT_DISCONNECTED:
                    # Whatever the peer sent before it went is readable now; after, nothing can come.
                    return (s.recv() if s.poll(0) else None), events
        pytest.fail(f"neither a reply nor a refused or dropped connection within {timeout_ms} ms (events {events})")
    finally:
        s.disable_monitor()
        monitor.close(linger=0)
        s.close(linger=0)


# MARK: events

class Subscription(BertdEvents):
    """The Python client's subscription, without its fixed settle time: `subscribed` waits until
    the daemon's PUB socket has it. Events read while confirming that are held, not lost."""

    def __init__(self, endpoint, topics=("",)):
        super().__init__(endpoint, topics=topics, settle_s=0, context=CTX)
        self._held = collections.deque()

    def next(self, timeout_ms=None):
        if self._held:
            return self._held.popleft()
        return super().next(timeout_ms)


PROBE_TOPIC = "model.load_failed"


def subscribed(daemon, *subscriptions, timeout_s=60):
    """Waits until every subscription is in place at the daemon (PUB/SUB's slow joiner): probes
    are `load`s of a path that does not exist, each published as a model.load_failed event
    carrying its path, repeated until every subscriber has received one. Each subscriber is then
    read up to the last probe (so no probe is left for the test to see) and the probe topic, if
    it was added for this, is dropped again. Returns the subscriptions."""
    for s in subscriptions:
        s._socket.subscribe(PROBE_TOPIC.encode())
    last_seen = {s: None for s in subscriptions}
    probes, until = [], time.monotonic() + timeout_s

    def read(s, timeout_ms):
        got = BertdEvents.next(s, timeout_ms)
        if got is None:
            return False
        topic, body = got
        if topic == PROBE_TOPIC and body.get("path") in probes:
            last_seen[s] = body["path"]
        else:
            s._held.append(got)
        return True

    while any(seen is None for seen in last_seen.values()):
        if time.monotonic() > until:
            pytest.fail(f"the event subscriptions did not reach bertd within {timeout_s} s")
        probes.append(f"/nonexistent/bertd-subscription-probe/{uuid.uuid4().hex}")
        expect_error(req(daemon.admin, {"id": "probe", "op": "load", "name": "subscription-probe", "path": probes[-1]},
                         timeout_ms=30000), "load_failed", "probe")
        for s in subscriptions:
            # The event is published before the reply is sent: once subscribed, it is there at once.
            while last_seen[s] != probes[-1] and read(s, 100):
                pass
    for s in subscriptions:  # a subscriber confirmed by an earlier probe receives the later ones too
        while last_seen[s] != probes[-1]:
            if not read(s, 30000):
                pytest.fail(f"probe {probes[-1]} not received by a confirmed subscriber")
        s._socket.unsubscribe(PROBE_TOPIC.encode())
    return subscriptions[0] if len(subscriptions) == 1 else subscriptions


def subscribe(daemon, topics=("",)):
    """A Subscription to the daemon's events, in place on return."""
    subscription = Subscription(daemon.events, topics=topics)
    try:
        return subscribed(daemon, subscription)
    except BaseException:
        subscription.close()
        raise


# MARK: the daemon

def _die_with_parent():
    """In the child before exec: SIGTERM when pytest dies, so no daemon outlives an aborted run."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Daemon:
    """One bertd process. tcp is endpoint 0 (tcp://127.0.0.1:*, the port the OS chose as bertd's ready
    line reports it), admin the ipc endpoint, events the PUB socket's ipc endpoint."""

    def __init__(self, sets=(), config_text=None, name="bertd", state=None):
        if not os.access(BERTD, os.X_OK):
            missing(f"{BERTD} is not built (run: swift build -c release)")
        if not os.path.isdir(MINILM):
            missing(f"the default model is missing at {MINILM} (run Deploy/fetch-model.sh)")
        # Short paths: an ipc path must fit in 107 bytes.
        self.dir = tempfile.mkdtemp(prefix=f"{name}-", dir="/tmp")
        self.runtime = os.path.join(self.dir, "run")
        self.state = state or os.path.join(self.dir, "state")  # a given state directory outlives the daemon
        os.makedirs(self.runtime)
        os.makedirs(self.state, exist_ok=True)
        self.admin = f"ipc://{self.runtime}/bertd.sock"
        self.events = f"ipc://{self.runtime}/events.sock"
        args = [BERTD]
        if config_text is not None:
            config = os.path.join(self.dir, "bertd.toml")
            with open(config, "w") as f:
                f.write(config_text)
            args += ["--config", config]
        else:
            args += ["--config", "none",
                     "--set", f"models.minilm.path={MINILM}",
                     "--set", "endpoint.0.address=tcp://127.0.0.1:*",
                     "--set", f"endpoint.1.address={self.admin}"]
        args += ["--set", f"server.events_endpoint={self.events}", "--set", "server.shutdown_grace_ms=5000"]
        for s in sets:
            args += ["--set", s]
        env = dict(os.environ, RUNTIME_DIRECTORY=self.runtime, STATE_DIRECTORY=self.state)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("WATCHDOG_USEC", None)
        self.log_path = os.path.join(self.dir, "bertd.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=_die_with_parent)
        try:
            self.endpoints = self._wait_ready(timeout=90)
        except Exception:
            self.log.close()
            self.cleanup()
            raise
        self.tcp = self.endpoints[0]
        self.returncode = None

    def _wait_ready(self, timeout):
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            text = self.log_text()
            m = re.search(r"ready: (.*?); models:", text)
            if m:
                return [e.strip() for e in m.group(1).split(",")]
            if self.proc.poll() is not None:
                raise RuntimeError(f"bertd exited with {self.proc.returncode} before it was ready:\n{text}")
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError(f"bertd was not ready within {timeout} s:\n{self.log_text()}")

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for_log(self, pattern, timeout_s=60):
        """The first match of the regular expression in the daemon's log, once it is there."""
        return wait_until(lambda: re.search(pattern, self.log_text()), timeout_s, interval_s=0.005,
                          what=f"bertd's log line /{pattern}/")

    def client(self, admin=False, **kwargs):
        return BertdClient(self.admin if admin else self.tcp, **kwargs)

    def _status_kb(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def rss_mib(self):
        return self._status_kb("VmRSS") / 1024

    def peak_rss_mib(self):
        return self._status_kb("VmHWM") / 1024

    def alive(self):
        return self.proc.poll() is None

    def assert_serving(self):
        """The daemon is up and answers ping and a small classify promptly."""
        assert self.alive(), f"bertd died:\n{self.log_text()[-3000:]}"
        reply = check_reply(req(self.tcp, {"id": "alive", "op": "ping"}, timeout_ms=30000), "ping", "alive")
        assert reply["ok"]
        reply = req(self.tcp, {"id": "alive-c", "op": "classify", "texts": ["still here"], "labels": ["yes", "no"]},
                    timeout_ms=60000)
        assert reply is not None, "no reply to a classify after the abuse"
        assert check_reply(reply, "classify", "alive-c")["ok"]

    def stop(self, timeout=30):
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "timeout (killed)"
            self.log.close()
        return self.returncode

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def stop_and_check(daemon):
    code = daemon.stop()
    if code != 0:
        pytest.fail(f"bertd exited with {code} after SIGTERM:\n{daemon.log_text()[-3000:]}")
    daemon.cleanup()


@pytest.fixture(scope="session")
def bertd():
    """The daemon shared by most tests (default limits)."""
    daemon = Daemon(name="bertd-main")
    yield daemon
    stop_and_check(daemon)


@pytest.fixture
def client(bertd):
    c = bertd.client(timeout_ms=30000)
    yield c
    c.close()


@pytest.fixture
def admin(bertd):
    c = bertd.client(admin=True, timeout_ms=30000)
    yield c
    c.close()


@pytest.fixture
def daemon_factory():
    """Starts extra daemons with other settings; each is stopped (exit 0 checked) at the end of the test."""
    started = []

    def start(**kwargs):
        d = Daemon(**kwargs)
        started.append(d)
        return d

    yield start
    for d in started:
        stop_and_check(d)


def sst2_texts(limit=None):
    if not os.path.exists(SST2_DEV):
        missing(f"SST-2 is not at {SST2_DEV}")
    texts = []
    with open(SST2_DEV, encoding="utf-8") as f:
        next(f)
        for line in f:
            text = line.rstrip("\n").split("\t")[0]
            if text:
                texts.append(text)
    return texts[:limit] if limit else texts
