# Core tests of ofd.session (sans I/O) and the async ofd.client over an
# in-memory channel (no sockets), so both also run under the MicroPython
# unix port. No test waits for the 5 s budget: the client takes a small
# budget under test control (min_budget_ms).
# Requirements: KZ-18, KZ-20 (token per protocol), KZ-23, KZ-29, KZ-30.3, R-78, R-79.

import asyncio

from aio import sleep_ms
from compat import ticks_diff, ticks_ms
from net import EHOSTUNREACH
from ofd import ProtocolError
from ofd import client as cl
from ofd import codec
from ofd import frame
from ofd import messages as M
from ofd import schema as S
from ofd.session import Session

KKM = 203539
BUDGET = 400  # ms: the test budget (production refuses less than 5000)
SLACK = 400  # ms of scheduling slack on a loaded machine


class Stream:
    # one connection: the request written, then the answer read from it.
    # reply: callable (request frame) -> answer bytes; "drop": the write
    # fails; "hang": accepted, never answered; trickle_ms: one byte at a time
    def __init__(self, chan, reply, trickle_ms=0):
        self.chan = chan
        self.reply = reply
        self.answer = None
        self.pos = 0
        self.closed = False
        self.trickle_ms = trickle_ms

    def write(self, b):
        if self.reply == "drop":
            raise OSError(104)
        self.chan.frames.append(bytes(b))
        if callable(self.reply):
            self.answer = self.reply(bytes(b))

    async def drain(self):
        pass

    async def readexactly(self, n):
        if self.answer is None:  # "hang": only the deadline ends this
            while True:
                await sleep_ms(1000)
        out = b""
        while len(out) < n:
            if self.pos >= len(self.answer):
                raise EOFError
            k = 1 if self.trickle_ms else n - len(out)
            if self.trickle_ms:
                await sleep_ms(self.trickle_ms)
            chunk = self.answer[self.pos:self.pos + k]
            self.pos += len(chunk)
            out += chunk
        return out

    def close(self):
        self.closed = True


class Channel:
    # answers: list of callables (request frame) -> answer bytes, or
    # "refuse" / "unreachable" / "drop" / "hang"; each connection takes the
    # next one (none left: refused)
    def __init__(self, answers, trickle_ms=0):
        self.answers = list(answers)
        self.frames = []
        self.streams = []
        self.opened = []
        self.trickle_ms = trickle_ms

    async def open(self, host, port, timeout_ms):
        self.opened.append((host, port))
        a = self.answers.pop(0) if self.answers else "refuse"
        if a == "refuse":
            raise OSError(111)
        if a == "unreachable":
            raise OSError(EHOSTUNREACH)
        s = Stream(self, a, self.trickle_ms)
        self.streams.append(s)
        return s, s


def answer(code=0, token=None, sign="1234567890", command=None, reqnum_delta=0, kkm=KKM):
    # command None: the request's own command
    def make(req_frame):
        h, body = frame.split(req_frame)
        cmd = codec.decode(S.Request, body)["command"] if command is None else command
        resp = {"command": cmd, "result": {"result_code": code}}
        if code == 0 and cmd == S.COMMAND_TICKET:
            resp["ticket"] = {"ticket_number": sign, "qr_code": b"http://x/check?i=" + sign.encode()}
        return frame.build(codec.encode(S.Response, resp), kkm, h.token if token is None else token,
                           (h.reqnum + reqnum_delta) & 0xFFFF)
    return make


def req():
    return codec.encode(S.Request, M.system_request(M.service(None))), S.COMMAND_SYSTEM


TICKET = (codec.encode(S.Request, {"command": S.COMMAND_TICKET}), S.COMMAND_TICKET)


def _client(answers, saved=None, hosts=None, reqnum=0, budget=BUDGET, **kw):
    ch = Channel(answers, **kw)
    s = Session(KKM, 1000, reqnum, saved.append if saved is not None else None)
    c = cl.OfdClient(s, ch, hosts or [("ofd", 7777)], budget, min_budget_ms=50)
    c.pause_ms = 10
    return c, ch


def run(c, r=None, key=None, budget=None):
    payload, command = r or req()
    return asyncio.run(c.exchange(payload, command, key, budget))


# --- the session without I/O -------------------------------------------------


def test_r_79_resend_of_an_unanswered_request_keeps_token_and_reqnum():
    saved = []
    s = Session(KKM, 1000, 7, saved.append)
    data, reqnum, token = s.request(b"\x08\x00", 0, key=5)
    assert (reqnum, token) == (8, 1000) and not s.resent
    assert saved[-1]["reqnum"] == 8 and saved[-1]["pending_key"] == 5
    s.token = 2000  # e.g. a 254 answer granted a new token meanwhile
    again, reqnum2, token2 = s.request(b"", 0, key=5)  # nothing rebuilt: the stored bytes
    assert again == data and (reqnum2, token2) == (8, 1000) and s.resent
    h, body = frame.split(s.request(b"\x08\x00\x32\x00", 0, key=5)[0])  # rebuilt payload
    assert (h.token, h.reqnum, body) == (1000, 8, b"\x08\x00\x32\x00") and s.reqnum == 8
    # another document takes the next number and the current token
    h, _ = frame.split(s.request(b"\x08\x00", 0, key=6)[0])
    assert (h.token, h.reqnum) == (2000, 9) and s.pending[0] == 6


def test_r_79_persist_raising_sends_nothing():
    def full(st):
        raise OSError(28)

    c, ch = _client([answer()])
    c.session.persist = full
    try:
        run(c, key=1)
        raise AssertionError("no error")
    except OSError:
        pass
    assert ch.opened == [] and ch.frames == []
    assert (c.session.reqnum, c.session.pending, c.session.token) == (0, None, 1000)


def test_r_79_token_adopted_write_ahead():
    seen = []
    s = Session(KKM, 1000, 0)

    def persist(st):
        seen.append((st["token"], s.token, st["pending_key"], st["done"]))

    s.persist = persist
    data, _, _ = s.request(b"\x08\x00", 0, key=3)
    h, body = frame.split(answer(token=2000)(data))
    out = s.answer(h, body)
    assert out.ok() and out.new_token == 2000 and s.token == 2000
    # the new token was stored while the session still held the old one
    assert seen == [(1000, 1000, 3, None), (2000, 1000, None, (3, 0, 1, 1000))]
    # a store that fails: the old token stays, the request stays pending
    s.persist = None
    data, _, _ = s.request(b"\x08\x00", 0, key=4)

    def full(st):
        raise OSError(28)

    s.persist = full
    h, body = frame.split(answer(token=3000)(data))
    try:
        s.answer(h, body)
        raise AssertionError("no error")
    except OSError:
        pass
    assert s.token == 2000 and s.pending[0] == 4 and s.done is None


def test_answer_that_does_not_fit_the_request_is_malformed_and_changes_nothing():
    s = Session(KKM, 1000, 0)
    data, _, _ = s.request(TICKET[0], S.COMMAND_TICKET, key=1)
    before = s.state()
    for make in (answer(reqnum_delta=1), answer(kkm=KKM + 1), answer(command=S.COMMAND_SYSTEM),
                 _no_ticket):
        h, body = frame.split(make(data))
        out = s.answer(h, body)
        assert (out.status, out.reason, out.code) == (cl.RETRY, "malformed", None)
        assert s.state() == before
    h, _ = frame.split(answer()(data))
    out = s.answer(h, b"\xff\xff\xff")
    assert out.reason == "malformed" and s.state() == before


def _no_ticket(f):
    h, _ = frame.split(f)
    body = codec.encode(S.Response, {"command": S.COMMAND_TICKET, "result": {"result_code": 0}})
    return frame.build(body, KKM, h.token, h.reqnum)


# --- the client over a channel -----------------------------------------------


def test_kz_23_ok_and_r_79_token_adopted_after_persist():
    saved = []
    c, ch = _client([answer(token=2000)], saved)
    out = run(c, key=1)
    assert out.status == cl.OK and out.code == 0 and out.attempts == 1
    assert c.session.token == 2000 and saved[-1]["token"] == 2000 and saved[0]["token"] == 1000
    h, _ = frame.split(ch.frames[0])
    assert (h.id, h.token, h.reqnum) == (KKM, 1000, 1)
    assert ch.streams[0].closed


def test_r_78_header_carries_id_token_next_reqnum_and_wraps():
    c, ch = _client([answer(), answer(), answer()], reqnum=65534)
    run(c)
    run(c)
    run(c)
    nums = [frame.split(f)[0].reqnum for f in ch.frames]
    assert nums == [65535, 0, 1]


def test_kz_29_drop_then_resend_same_token_and_reqnum():
    c, ch = _client(["drop", "refuse", answer(token=3000)])
    out = run(c, key=5)
    assert out.ok() and out.attempts == 3
    assert len(ch.frames) == 1  # the dropped write and the refused connect sent nothing
    h = frame.split(ch.frames[0])[0]
    assert h.reqnum == 1 and h.token == 1000


def test_malformed_answers_are_retried_not_raised():
    bad = [lambda f: b"\x00" * 40,  # garbage
           lambda f: answer()(f)[:20],  # truncated
           answer(reqnum_delta=1),  # wrong reqnum
           answer(kkm=KKM + 1),  # wrong id
           lambda f: frame.build(b"\xff\xff\xff", KKM, 1000, 1),  # bad protobuf
           answer(code=254),
           answer(code=255),
           answer(token=4444)]
    c, ch = _client(bad, budget=2000)
    out = run(c, key=1)
    assert out.ok() and out.attempts == 8 and c.session.token == 4444
    assert len(set(ch.frames)) == 1  # every attempt: the very same frame


def test_kz_29_garbage_wrong_reqnum_wrong_id_until_the_budget_is_retry_malformed():
    for make in (lambda f: b"\x00" * 64, answer(reqnum_delta=1), answer(kkm=KKM + 1)):
        c, ch = _client([make] * 1000)
        out = run(c, key=1)
        assert (out.status, out.reason, out.code) == (cl.RETRY, "malformed", None)
        assert out.attempts > 1 and c.session.pending[0] == 1 and c.session.token == 1000


def test_retry_when_budget_spent_keeps_pending_then_resends():
    saved = []
    c, ch = _client([], saved)  # every connection refused for the whole budget
    out = run(c, key=11)
    assert out.status == cl.RETRY and out.code is None and out.reason == "refused"
    assert c.session.pending is not None and saved[-1]["pending_key"] == 11
    ch.answers = [answer(token=5000)]
    out2 = run(c, key=11)
    assert out2.ok() and out2.resent and out2.reqnum == out.reqnum and out2.token == 1000
    assert c.session.pending is None and saved[-1]["pending_key"] is None and c.session.token == 5000
    # another document afterwards takes a new number
    ch.answers = [answer()]
    assert run(c, key=12).reqnum == out.reqnum + 1


def test_pending_restored_from_saved_state():
    saved = []
    c, ch = _client(["refuse"] * 1000, saved)
    run(c, key=3)
    st = saved[-1]
    c2, ch2 = _client([answer()])
    s = c2.session
    s.token, s.reqnum = st["token"], st["reqnum"]
    p = st["pending"]
    s.pending = (st["pending_key"], p[0], p[1], p[2], p[3])
    out = asyncio.run(c2.exchange(b"", 0, key=3))  # nothing rebuilt: the stored bytes
    assert out.ok() and out.resent
    h, body = frame.split(ch2.frames[0])
    assert h.reqnum == st["reqnum"] and body == req()[0]


def test_result_classes_and_blocked_clears_pending():
    for code, status, reason in ((15, cl.BLOCKED, "server_block"), (1, cl.BLOCKED, "unknown_id"),
                                 (9, cl.BLOCKED, "invalid_retry_request"), (7, cl.OFFLINE, "ssl_not_allowed")):
        c, ch = _client([answer(code=code, command=S.COMMAND_SYSTEM)])
        out = run(c, key=1)
        assert (out.status, out.reason, out.code, out.attempts) == (status, reason, code, 1)
        assert c.session.pending is None


def test_ok_ticket_answer_without_ticket_block_is_malformed():
    c, ch = _client([_no_ticket, answer(sign="9999999999")])
    out = run(c, TICKET, key=1)
    assert out.ok() and out.attempts == 2 and out.response["ticket"]["ticket_number"] == "9999999999"


def test_budget_below_5_s_refused():
    for make in (lambda: cl.OfdClient(Session(1, 1), Channel([]), [("h", 1)], budget_ms=4999),
                 lambda: asyncio.run(cl.OfdClient(Session(1, 1), Channel([]), [("h", 1)]).exchange(b"", 0, None, 1000))):
        try:
            make()
            raise AssertionError("accepted")
        except ValueError as e:
            assert e.args[0] == "budget_ms"
    assert cl.MIN_BUDGET_MS == 5000


def test_protocol_error_type_is_the_codec_error():
    try:
        frame.split(b"\x00" * 18)
        assert False
    except ProtocolError as e:
        assert e.args[0] == "bad application code"


def test_r_79_token_adopted_from_every_valid_answer_also_errors():
    # PROTOCOL.md section 15: adopt the TOKEN of any answer (write-ahead)
    saved = []
    c, ch = _client([answer(code=15, token=3000, command=S.COMMAND_SYSTEM)], saved)
    out = run(c, key=1)
    assert out.status == cl.BLOCKED and c.session.token == 3000 and saved[-1]["token"] == 3000
    # 254 with a new token: adopted, but the pending request keeps the TOKEN
    # and REQNUM it was first sent with
    c, ch = _client([answer(code=254, token=4000, command=S.COMMAND_SYSTEM)] * 1000, saved)
    out = run(c, key=2)
    assert out.status == cl.RETRY and out.code == 254 and c.session.token == 4000
    p = c.session.pending
    assert p is not None and p[4] == 1000 and p[3] == 1
    h0, _ = frame.split(ch.frames[0])
    h1, _ = frame.split(ch.frames[-1])
    assert len(ch.frames) > 1 and (h0.token, h0.reqnum) == (h1.token, h1.reqnum) == (1000, 1)


def test_section_12_codes_11_14_17_are_not_offline():
    # fix-and-resend codes block the queue; they never mean "work offline"
    for code in (11, 13, 14, 16, 17, 18):
        assert cl.classify(code)[0] == cl.BLOCKED, code
    for code in (254, 255):
        assert cl.classify(code)[0] == cl.RETRY
    assert cl.classify(200) == (cl.BLOCKED, "unknown_result")


def test_kz_18_failover_order_and_the_next_address_next_time():
    hosts = [("a", 1), ("b", 2), ("c", 3)]
    c, ch = _client(["refuse", "drop", answer()], hosts=hosts)
    out = run(c, key=1)
    assert out.ok() and out.attempts == 3 and ch.opened == hosts
    # the address that answered is where the next exchange starts
    ch.answers = ["refuse", answer()]
    assert run(c, key=2).ok() and ch.opened[3:] == [("c", 3), ("a", 1)]


def test_kz_29_no_reachable_address_ends_at_once():
    c, ch = _client(["unreachable", "unreachable"], hosts=[("a", 1), ("b", 2)], budget=5000)
    t0 = ticks_ms()
    out = run(c, key=1)
    assert ticks_diff(ticks_ms(), t0) < 1000
    assert (out.status, out.reason, out.attempts) == (cl.RETRY, "unreachable", 2)
    # an unreachable address is skipped at once for a reachable one
    c, ch = _client(["unreachable", answer()], hosts=[("a", 1), ("b", 2)])
    out = run(c, key=1)
    assert out.ok() and out.attempts == 2


def test_kz_29_ofd_that_accepts_and_never_answers_ends_at_the_budget():
    c, ch = _client(["hang"] * 100)
    t0 = ticks_ms()
    out = run(c, key=1)
    took = ticks_diff(ticks_ms(), t0)
    assert (out.status, out.reason, out.code) == (cl.RETRY, "timeout", None)
    assert BUDGET - 20 <= took <= BUDGET + SLACK and out.elapsed_ms <= BUDGET + SLACK
    assert ch.streams[-1].closed and c.session.pending[0] == 1


def test_kz_29_answer_trickling_in_is_cut_at_the_budget():
    resp = frame.build(codec.encode(S.Response, {"command": 0, "result": {"result_code": 0}}), KKM, 1000, 1)
    c, ch = _client([lambda f: resp + bytes(40)] * 100, trickle_ms=25)
    t0 = ticks_ms()
    out = run(c, key=1)
    took = ticks_diff(ticks_ms(), t0)
    # one byte every 25 ms: the 18 header bytes alone take 450 ms, more
    # than the budget; one deadline covers every byte of the attempt
    assert (out.status, out.reason, out.code) == (cl.RETRY, "timeout", None)
    assert took <= BUDGET + SLACK


def test_the_loop_runs_on_while_the_ofd_never_answers():
    # the exchange never blocks the loop: another task keeps its pace
    c, ch = _client(["hang"] * 100)
    ticks = []

    async def ticker():
        while True:
            ticks.append(ticks_ms())
            await sleep_ms(10)

    async def both():
        t = asyncio.create_task(ticker())
        out = await c.exchange(req()[0], req()[1], 1)
        t.cancel()
        return out

    out = asyncio.run(both())
    assert out.reason == "timeout" and len(ticks) >= BUDGET // 10 // 3
    # a blocking exchange would stop it for the whole budget (400 ms)
    gaps = [ticks_diff(b, a) for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < BUDGET // 2


def test_kz_29_the_5_s_budget_on_an_injected_clock_takes_no_real_time():
    # the client's time is injected: the production budget with every
    # connection refused, its pauses passing on a virtual clock
    class Clock:
        t = 0

        def ticks_ms(self):
            self.t += 1
            return self.t

        async def sleep_ms(self, ms):
            self.t += ms

    clk = Clock()
    ch = Channel([])
    c = cl.OfdClient(Session(KKM, 1000), ch, [("a", 1), ("b", 2)], ticks_ms=clk.ticks_ms, sleep_ms=clk.sleep_ms)
    t0 = ticks_ms()
    out = run(c, key=1)
    assert ticks_diff(ticks_ms(), t0) < 1000
    assert (out.status, out.reason) == (cl.RETRY, "refused")
    assert cl.MIN_BUDGET_MS - cl.RETRY_PAUSE_MS <= out.elapsed_ms <= cl.MIN_BUDGET_MS
    assert out.attempts == len(ch.opened) >= cl.MIN_BUDGET_MS // (cl.RETRY_PAUSE_MS + 10)
    assert ch.opened[:4] == [("a", 1), ("b", 2), ("a", 1), ("b", 2)]
