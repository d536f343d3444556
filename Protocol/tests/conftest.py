"""Fixtures for the protocol tests: real bertd processes on free ports and temporary ipc paths.

The binaries come from .build/release (BERTD_BIN / BERTCTL_BIN override); nothing is built here.
Every daemon is stopped with SIGTERM and must exit with status 0.
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import zmq
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL = os.path.dirname(HERE)
REPO = os.path.dirname(PROTOCOL)
sys.path.insert(0, os.path.join(PROTOCOL, "clients", "python"))

from bertd_client import BertdClient  # noqa: E402

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# MARK: the daemon

def _die_with_parent():
    """In the child before exec: SIGTERM when pytest dies, so no daemon outlives an aborted run."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Daemon:
    """One bertd process. tcp is endpoint 0 (bound to a free port), admin the ipc endpoint."""

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
    """The daemon shared by most tests (default limits). Its memory is checked at the end."""
    daemon = Daemon(name="bertd-main")
    daemon.rss_at_start = daemon.rss_mib()
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
