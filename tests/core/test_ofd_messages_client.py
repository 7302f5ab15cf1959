# Core tests of ofd.client and ofd.port with an in-memory transport (no
# sockets), so the session logic also runs under the MicroPython unix port.
# Requirements: KZ-20 (token per protocol), KZ-23, KZ-29, KZ-30.3, R-78, R-79.

from ofd import ProtocolError
from ofd import client as cl
from ofd import codec
from ofd import frame
from ofd import messages as M
from ofd import schema as S

KKM = 203539


class Stream:
    def __init__(self, answer, fail_write=False):
        self.answer = answer
        self.pos = 0
        self.sent = b""
        self.fail_write = fail_write
        self.closed = False

    def settimeout(self, s):
        self.timeout = s

    def write(self, b):
        if self.fail_write:
            raise OSError(104)
        self.sent += bytes(b)
        return len(b)

    def read(self, n):
        chunk = self.answer[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk

    def close(self):
        self.closed = True


class Transport:
    # answers: list of callables (request frame bytes) -> answer bytes, or
    # "refuse" / "drop"; each connection takes the next one
    def __init__(self, answers):
        self.answers = list(answers)
        self.frames = []
        self.streams = []

    def connect(self, host, port, timeout):
        a = self.answers.pop(0) if self.answers else "refuse"
        if a == "refuse":
            raise OSError(111)
        s = Stream(b"", fail_write=(a == "drop"))
        s.reply = a
        orig_write = s.write

        def write(b):
            n = orig_write(b)
            self.frames.append(bytes(b))
            if callable(s.reply):
                s.answer = s.reply(bytes(b))
            return n

        s.write = write
        self.streams.append(s)
        return s


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
    return M.system_request(M.service(None))


def ticket_req():
    return {"command": S.COMMAND_TICKET}  # only the envelope matters to the client


def _client(answers, saved=None, **kw):
    t = Transport(answers)
    c = cl.OfdClient(t, [("ofd", 7777)], KKM, 1000, persist=(saved.append if saved is not None else None), **kw)
    return c, t


def test_kz_23_ok_and_r_79_token_adopted_after_persist():
    saved = []
    c, t = _client([answer(token=2000)], saved)
    out = c.exchange(req(), key=1)
    assert out.status == cl.OK and out.code == 0 and out.attempts == 1
    assert c.token == 2000 and saved[-1]["token"] == 2000 and saved[0]["token"] == 1000
    h, _ = frame.split(t.frames[0])
    assert (h.id, h.token, h.reqnum) == (KKM, 1000, 1)
    assert t.streams[0].closed


def test_r_78_header_carries_id_token_next_reqnum_and_wraps():
    c, t = _client([answer(), answer(), answer()], reqnum=65534)
    c.exchange(req())
    c.exchange(req())
    c.exchange(req())
    nums = [frame.split(f)[0].reqnum for f in t.frames]
    assert nums == [65535, 0, 1]


def test_kz_29_drop_then_resend_same_token_and_reqnum():
    c, t = _client(["drop", "refuse", answer(token=3000)])
    out = c.exchange(req(), key=5)
    assert out.ok() and out.attempts == 3
    hs = [frame.split(f)[0] for f in t.frames]
    assert len(hs) == 1  # the dropped write and the refused connect sent nothing
    assert hs[-1].reqnum == 1 and hs[-1].token == 1000


def test_malformed_answers_are_retried_not_raised():
    bad = [lambda f: b"\x00" * 40,  # garbage
           lambda f: answer()(f)[:20],  # truncated
           answer(reqnum_delta=1),  # wrong reqnum
           answer(kkm=KKM + 1),  # wrong id
           lambda f: frame.build(b"\xff\xff\xff", KKM, 1000, 1),  # bad protobuf
           answer(code=254),
           answer(code=255),
           answer(token=4444)]
    c, t = _client(bad)
    out = c.exchange(req(), key=1)
    assert out.ok() and out.attempts == 8 and c.token == 4444
    assert len(set(t.frames)) == 1  # every attempt: the very same frame


def test_retry_when_budget_spent_keeps_pending_then_resends():
    saved = []
    c, t = _client([], saved)  # every connection refused for the whole budget
    c.budget_ms = cl.MIN_BUDGET_MS
    out = c.exchange(req(), key=11)
    assert out.status == cl.RETRY and out.code is None and out.reason == "refused"
    assert c.pending is not None and saved[-1]["pending_key"] == 11
    t.answers = [answer(token=5000)]
    out2 = c.exchange(req(), key=11)
    assert out2.ok() and out2.resent and out2.reqnum == out.reqnum and out2.token == 1000
    assert c.pending is None and saved[-1]["pending_key"] is None and c.token == 5000
    # another document afterwards takes a new number
    t.answers = [answer()]
    assert c.exchange(req(), key=12).reqnum == out.reqnum + 1


def test_pending_restored_from_saved_state():
    saved = []
    c, t = _client(["refuse"] * 1000, saved)
    c.exchange(req(), key=3)
    st = saved[-1]
    t2 = Transport([answer()])
    c2 = cl.OfdClient(t2, [("ofd", 1)], KKM, st["token"], st["reqnum"], pending_key=st["pending_key"],
                      pending=st["pending"])
    out = c2.exchange_payload(b"", 0, key=3)  # nothing rebuilt: the stored bytes
    assert out.ok() and out.resent
    h, body = frame.split(t2.frames[0])
    assert h.reqnum == st["reqnum"] and codec.decode(S.Request, body) == req()


def test_result_classes_and_blocked_clears_pending():
    for code, status, reason in ((15, cl.BLOCKED, "server_block"), (1, cl.BLOCKED, "unknown_id"),
                                 (9, cl.BLOCKED, "invalid_retry_request"), (7, cl.OFFLINE, "ssl_not_allowed")):
        c, t = _client([answer(code=code, command=S.COMMAND_SYSTEM)])
        out = c.exchange(req(), key=1)
        assert (out.status, out.reason, out.code, out.attempts) == (status, reason, code, 1)
        assert c.pending is None


def test_ok_ticket_answer_without_ticket_block_is_malformed():
    def no_ticket(f):
        h, _ = frame.split(f)
        body = codec.encode(S.Response, {"command": S.COMMAND_TICKET, "result": {"result_code": 0}})
        return frame.build(body, KKM, h.token, h.reqnum)

    c, t = _client([no_ticket, answer(sign="9999999999")])
    out = c.exchange(ticket_req(), key=1)
    assert out.ok() and out.attempts == 2 and out.response["ticket"]["ticket_number"] == "9999999999"


def test_budget_below_5_s_refused():
    try:
        cl.OfdClient(Transport([]), [("h", 1)], 1, 1, budget_ms=1000)
        assert False
    except ValueError as e:
        assert e.args[0] == "budget_ms"


def test_protocol_error_type_is_the_codec_error():
    try:
        frame.split(b"\x00" * 18)
        assert False
    except ProtocolError as e:
        assert e.args[0] == "bad application code"


def test_r_79_token_adopted_from_every_valid_answer_also_errors():
    # PROTOCOL.md section 15: adopt the TOKEN of any answer (write-ahead)
    saved = []
    c, t = _client([answer(code=15, token=3000, command=S.COMMAND_SYSTEM)], saved)
    out = c.exchange(req(), key=1)
    assert out.status == cl.BLOCKED and c.token == 3000 and saved[-1]["token"] == 3000
    # 254 with a new token: adopted, but the pending request keeps the TOKEN
    # and REQNUM it was first sent with
    c, t = _client([answer(code=254, token=4000, command=S.COMMAND_SYSTEM)] * 60, saved)
    out = c.exchange(req(), key=2)
    assert out.status == cl.RETRY and out.code == 254 and c.token == 4000
    assert c.pending is not None and c.pending[4] == 1000 and c.pending[3] == 1
    h0, _ = frame.split(t.frames[0])
    h1, _ = frame.split(t.frames[-1])
    assert (h0.token, h0.reqnum) == (h1.token, h1.reqnum) == (1000, 1)


def test_section_12_codes_11_14_17_are_not_offline():
    # fix-and-resend codes block the queue; they never mean "work offline"
    for code in (11, 13, 14, 16, 17, 18):
        assert cl.classify(code)[0] == cl.BLOCKED, code
    for code in (254, 255):
        assert cl.classify(code)[0] == cl.RETRY
    assert cl.classify(200) == (cl.BLOCKED, "unknown_result")


def test_kz_29_answer_trickling_in_is_cut_at_the_budget():
    from compat import sleep_ms, ticks_diff, ticks_ms

    class Slow(Stream):
        def read(self, n):
            sleep_ms(250)
            return Stream.read(self, 1)

    timeouts = []

    class T:
        def connect(self, host, port, timeout):
            s = Slow(frame.build(codec.encode(S.Response, {"command": 0, "result": {"result_code": 0}}),
                                 KKM, 1000, 1) + bytes(40))
            s.settimeout = timeouts.append
            return s

    c = cl.OfdClient(T(), [("ofd", 7777)], KKM, 1000)
    t0 = ticks_ms()
    out = c.exchange(req(), key=1)
    took = ticks_diff(ticks_ms(), t0)
    # 18 header bytes at 250 ms each would be 4.5 s per attempt and the
    # frame is longer: without one deadline the exchange would take ~7 s
    assert out.status == cl.RETRY and out.reason == "timeout" and out.code is None
    assert took < cl.MIN_BUDGET_MS + 600
    # the stream timeout shrinks with the time that is left
    assert timeouts[0] > timeouts[-1] and timeouts[-1] <= 0.3
