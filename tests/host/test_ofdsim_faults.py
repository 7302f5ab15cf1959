"""Simulated OFD: every fault kind, set through the HTTP admin API or the CLI,
observed by a raw TCP client."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tools.ofdsim import build, client
from tools.ofdsim.header import HEADER_SIZE, frame, parse_header
from tools.ofdsim.testkit import Sim, register_sample

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LINE = [("Нан / Хлеб", 1000, 18000, "1")]
WHEN = (2026, 3, 2, 9, 0, 0)


def admin(sim, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(sim.http + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def raw(sim, data, timeout=10.0):
    """Bytes received until close, or the exception class the client saw."""
    try:
        return client.raw_exchange("127.0.0.1", sim.port, data, timeout)
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError, socket.timeout) as e:
        return type(e)


@pytest.fixture(scope="module")
def sim():
    with Sim() as s:
        s.call(register_sample, s.server.store, 42, 777, "010100099999")
        yield s


@pytest.fixture(autouse=True)
def no_faults(sim):
    sim.call(sim.server.clear_faults)
    yield
    sim.call(sim.server.clear_faults)


def wait_for(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def system_ok(kkm_id, token, sim):
    try:
        return sim.session(kkm_id, token).send(build.system(), timeout=2)[1].result.result_code == 0
    except OSError:
        return False


def ticket_frame(sim, ses):
    ses.reqnum += 1
    return frame(ses.kkm_id, ses.token, ses.reqnum, build.ticket(WHEN, LINE).SerializeToString())


def adopt(ses, answer):
    ses.token = parse_header(answer[:HEADER_SIZE]).token


def test_refuse_global_and_per_register(sim):
    ses = sim.session()
    before = sim.store("count", "tickets")
    st, f = admin(sim, "POST", "/admin/faults", {"kind": "refuse", "count": 1})
    assert st == 201 and f["kind"] == "refuse"
    got = raw(sim, ticket_frame(sim, ses))
    assert got in (b"", ConnectionResetError)
    assert sim.store("count", "tickets") == before
    # per register: the other register still works
    admin(sim, "POST", "/admin/faults", {"kind": "refuse", "kkm_id": sim.kkm_id})
    assert raw(sim, ticket_frame(sim, ses)) in (b"", ConnectionResetError)
    other = sim.session(42, 777)
    _, r = other.send(build.system())
    assert r.result.result_code == 0
    admin(sim, "DELETE", "/admin/faults")
    answer = raw(sim, ticket_frame(sim, ses))
    assert parse_header(answer[:HEADER_SIZE]).reqnum == ses.reqnum
    adopt(ses, answer)
    assert sim.store("count", "tickets") == before + 1


def test_delay_then_resend_gets_the_stored_answer(sim):
    ses = sim.session()
    ses.token = sim.store("kkm", sim.kkm_id)["token"]
    ses.reqnum = 1000
    admin(sim, "POST", "/admin/faults", {"kind": "delay", "seconds": 1.0, "count": 1, "kkm_id": sim.kkm_id})
    data = ticket_frame(sim, ses)
    n = sim.store("count", "tickets")
    assert raw(sim, data, timeout=0.3) is socket.timeout          # the device gives up
    assert wait_for(lambda: sim.store("count", "tickets") == n + 1)  # but the OFD stored it
    time.sleep(0.8)
    again = raw(sim, data)                                         # resend: same TOKEN + REQNUM
    assert sim.store("count", "tickets") == n + 1
    h = parse_header(again[:HEADER_SIZE])
    assert h.reqnum == ses.reqnum and h.size == len(again)
    # a delayed answer that is waited for arrives whole after the delay
    adopt(ses, again)
    admin(sim, "POST", "/admin/faults", {"kind": "delay", "seconds": 0.5, "count": 1})
    t0 = time.monotonic()
    ans = raw(sim, ticket_frame(sim, ses))
    assert time.monotonic() - t0 >= 0.5 and parse_header(ans[:HEADER_SIZE]).size == len(ans)
    adopt(ses, ans)


def test_close_after_k_bytes_then_resend_gets_whole_identical_answer(sim):
    ses = sim.session()
    ses.token = sim.store("kkm", sim.kkm_id)["token"]
    ses.reqnum = 2000
    admin(sim, "POST", "/admin/faults", {"kind": "close_after", "bytes": 10, "count": 1})
    data = ticket_frame(sim, ses)
    cut = raw(sim, data)
    assert len(cut) == 10 and cut[:2] == b"\xa2\x81"
    whole = raw(sim, data)
    assert len(whole) > 10 and whole[:10] == cut
    adopt(ses, whole)


def test_garbage_answer(sim):
    ses = sim.session()
    ses.token = sim.store("kkm", sim.kkm_id)["token"]
    ses.reqnum = 3000
    admin(sim, "POST", "/admin/faults", {"kind": "garbage", "bytes": 40, "count": 1})
    data = ticket_frame(sim, ses)
    junk = raw(sim, data)
    assert len(junk) == 40 and junk[:2] != b"\xa2\x81"
    # a protocol client rejects it (the resend is a duplicate, answered with garbage again)
    admin(sim, "POST", "/admin/faults", {"kind": "garbage", "bytes": 40, "count": 1})
    with pytest.raises(client.ExchangeError):
        client.exchange_bytes("127.0.0.1", sim.port, ses.kkm_id, ses.token, ses.reqnum, data[HEADER_SIZE:])
    adopt(ses, raw(sim, data))


def test_wrong_request_number_in_answer(sim):
    ses = sim.session()
    ses.token = sim.store("kkm", sim.kkm_id)["token"]
    ses.reqnum = 4000
    admin(sim, "POST", "/admin/faults", {"kind": "wrong_reqnum", "count": 1})
    data = ticket_frame(sim, ses)
    bad = raw(sim, data)
    assert parse_header(bad[:HEADER_SIZE]).reqnum == 4002
    good = raw(sim, data)
    assert parse_header(good[:HEADER_SIZE]).reqnum == 4001
    assert good[HEADER_SIZE:] == bad[HEADER_SIZE:]
    adopt(ses, good)


@pytest.mark.parametrize("code", [254, 255])
def test_result_254_255_without_processing(sim, code):
    ses = sim.session()
    ses.token = sim.store("kkm", sim.kkm_id)["token"]
    ses.reqnum = 5000 + code
    n = sim.store("count", "tickets")
    admin(sim, "POST", "/admin/faults", {"kind": "result", "code": code, "count": 1})
    data = ticket_frame(sim, ses)
    h, r = client.exchange("127.0.0.1", sim.port, ses.kkm_id, ses.token, ses.reqnum, data[HEADER_SIZE:])
    assert r.result.result_code == code and h.token == ses.token
    assert sim.store("count", "tickets") == n
    # the retry with the same TOKEN + REQNUM is then processed normally
    h, r = client.exchange("127.0.0.1", sim.port, ses.kkm_id, ses.token, ses.reqnum, data[HEADER_SIZE:])
    assert r.result.result_code == 0 and sim.store("count", "tickets") == n + 1
    ses.token = h.token


def test_down_and_back(sim):
    st, _ = admin(sim, "POST", "/admin/faults", {"kind": "down", "seconds": 1.0})
    assert st == 201
    time.sleep(0.1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sim.port), timeout=2).close()
    assert admin(sim, "GET", "/admin/status")[1]["down"] is True
    time.sleep(0.9)
    assert wait_for(lambda: system_ok(42, 777, sim))                # back after about 1 s
    assert admin(sim, "GET", "/admin/status")[1]["down"] is False
    # per register: reset for that register only, for the given time
    admin(sim, "POST", "/admin/faults", {"kind": "down", "seconds": 0.6, "kkm_id": 42})
    assert raw(sim, frame(42, 777, 9000, build.system().SerializeToString())) in (b"", ConnectionResetError)
    time.sleep(0.5)
    assert wait_for(lambda: system_ok(42, 777, sim))


def test_down_for_duration_ends_when_faults_are_cleared(sim):
    # `fault down duration=30` (the README's offline example) is a 30 s outage, and clearing the
    # faults brings the port back at once (the offline demonstration's `fault clear` then `sync`)
    st, f = admin(sim, "POST", "/admin/faults", {"kind": "down", "duration": 30})
    assert st == 201 and f["seconds"] == 30
    time.sleep(0.1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sim.port), timeout=2).close()
    assert admin(sim, "DELETE", "/admin/faults")[0] == 200
    assert wait_for(lambda: system_ok(42, 777, sim), timeout=3)
    assert admin(sim, "GET", "/admin/status")[1]["down"] is False


def test_admin_api_validation_list_and_remove(sim):
    assert admin(sim, "POST", "/admin/faults", {"kind": "explode"})[0] == 400
    assert admin(sim, "POST", "/admin/faults", {"kind": "result", "code": 77})[0] == 400
    st, f = admin(sim, "POST", "/admin/faults", {"kind": "delay", "seconds": 3, "kkm_id": 42})
    assert st == 201
    st, lst = admin(sim, "GET", "/admin/faults")
    assert [x["id"] for x in lst] == [f["id"]] and lst[0]["seconds"] == 3
    assert admin(sim, "DELETE", "/admin/faults/%d" % f["id"])[0] == 200
    assert admin(sim, "GET", "/admin/faults")[1] == []
    st, k = admin(sim, "POST", "/admin/registers", {"kkm_id": 77, "rnm": "010100077777", "serial": "SN77",
                                                   "title": "ЖК «Әлем»", "bin": "900101300123",
                                                   "address": "Астана", "token": 5})
    assert st == 201 and k["token"] == 5
    assert admin(sim, "POST", "/admin/registers/77/block", {"reason": "тест"})[1]["blocked"] == 1
    _, r = sim.session(77, 5).send(build.system())
    assert r.result.result_code == 15
    assert admin(sim, "POST", "/admin/registers/77/unblock", {})[1]["blocked"] == 0
    assert admin(sim, "POST", "/admin/registers/77/token", {"token": 6})[1]["token"] == 6
    st, m = admin(sim, "POST", "/admin/registers/77/messages", {"type": "INFO", "text": "Сәлем"})
    assert st == 201
    _, r = sim.session(77, 6).send(build.system())
    assert [a.text for a in r.service.ticket_ads] == ["Сәлем"]


def test_cli_sets_faults_through_the_admin_api(sim):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tools.ofdsim", "fault", "--admin", sim.http] + list(args),
                              cwd=ROOT, capture_output=True, text=True, timeout=30)
    p = cli("result", "--code", "255", "--kkm-id", "42", "--count", "1")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["code"] == 255
    assert json.loads(cli("list").stdout)[0]["kind"] == "result"
    _, r = sim.session(42, 777).send(build.system())
    assert r.result.result_code == 255
    assert cli("garbage", "--bytes", "5").returncode == 0
    assert cli("clear").returncode == 0
    assert json.loads(cli("list").stdout) == []
    assert cli("result", "--code", "99").returncode == 1
