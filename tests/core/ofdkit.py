# An in-memory OFD for the tests that run the register, ofd.port and
# ofd.client for real on the NOR emulator (no sockets, so they also run under
# the MicroPython unix port). The OFD side is reduced to token, duplicates
# and storage: it rotates the token on every answer, answers a resend (same
# token, request number and command as its last exchange) with its stored
# answer, refuses a wrong token with result 2, and stores every other
# request.
from ofd import client as cl
from ofd import codec
from ofd import frame
from ofd import schema as S
from ofd import sender as Y
from ofd.port import OfdPort
from ofd.session import Session
from net import EHOSTUNREACH
from regkit import REG, asyncio, fiscalised_bench, sell

KKM = int(REG["kkm_id"])


class MemOfd:
    def __init__(self, token):
        self.token = token
        self.last = None  # (token, reqnum, command, answer bytes)
        self.stored = []  # request payloads stored as documents
        self.duplicates = 0
        self.up = True
        # z(request's z_report) -> the OFD's Z answered to a shift close (None: no report)
        self.z = None

    def state(self):
        return (self.token, self.last, list(self.stored), self.duplicates)

    def set_state(self, st):
        self.token, self.last, stored, self.duplicates = st
        self.stored = list(stored)

    def request(self, i):
        # the stored request i (-1: the last) as a decoded Request dict
        return codec.decode(S.Request, self.stored[i])

    def handle(self, data):
        h, body = frame.split(data)
        req = codec.decode(S.Request, body)
        cmd = req["command"]
        last = self.last
        if last is not None and last[0] == h.token and last[1] == h.reqnum and last[2] == cmd:
            self.duplicates += 1
            return last[3]
        if h.token != self.token:
            resp = {"command": cmd, "result": {"result_code": S.RESULT_TYPE_INVALID_TOKEN}}
            return frame.build(codec.encode(S.Response, resp), KKM, h.token, h.reqnum)
        self.stored.append(bytes(body))
        resp = {"command": cmd, "result": {"result_code": 0}}
        if cmd == S.COMMAND_TICKET:
            sign = "%010d" % (5000000000 + len(self.stored))
            resp["ticket"] = {"ticket_number": sign, "qr_code": b"http://x/?i=" + sign.encode()}
        if cmd == S.COMMAND_CLOSE_SHIFT and self.z is not None:
            resp["report"] = {"report": S.REPORT_Z, "zx_report": self.z(req["close_shift"]["z_report"])}
        new = self.token + 1
        ans = frame.build(codec.encode(S.Response, resp), KKM, new, h.reqnum)
        self.last = (h.token, h.reqnum, cmd, ans)
        self.token = new
        return ans

    # transport: one connection per attempt
    def connect(self, host, port, timeout_s):
        if not self.up:
            raise OSError(111)
        return _Stream(self)


class LinkChannel:
    # a net channel over a blocking in-memory link (connect() -> a stream
    # with read, write, close): what the client opens in the tests
    def __init__(self, link):
        self.link = link

    async def open(self, host, port, timeout_ms):
        addrs = getattr(self.link, "addrs", None)
        if addrs is not None and (host, port) not in addrs:
            raise OSError(EHOSTUNREACH)
        s = _LinkStream(self.link.connect(host, port, timeout_ms / 1000))
        return s, s


class _LinkStream:
    def __init__(self, stream):
        self.stream = stream

    async def readexactly(self, n):
        return frame.read_exact(self.stream, n)

    def write(self, b):
        self.stream.write(b)

    async def drain(self):
        pass

    def close(self):
        self.stream.close()


def link_client(link, hosts, kkm_id, token, **kw):
    # the real async client with its session over an in-memory link
    return cl.OfdClient(Session(kkm_id, token), LinkChannel(link), hosts, **kw)


class _Stream:
    def __init__(self, ofd):
        self.ofd = ofd
        self.answer = b""
        self.pos = 0

    def write(self, b):
        self.answer = self.ofd.handle(bytes(b))
        return len(b)

    def read(self, n):
        c = self.answer[self.pos : self.pos + n]
        self.pos += len(c)
        return c

    def settimeout(self, s):
        pass

    def close(self):
        pass


# --- a register on the in-memory OFD behind a link that can break ------------
# (ofd.port and ofd.client run for real; a broken link is an address that is
# gone: the client gives up at once, no 5 s wait)

HOST = (REG["ofd_hosts"][0][0], REG["ofd_hosts"][0][1])


# the National Catalogue (S000-1) the in-memory OFD answers COMMAND_NOMENCLATURE from
BREAD = "4870001000011"
KUMYS = "0200000000028"  # an NTIN
SHOES = "4870001000165"
CIGARETTES = "4870001000141"
UNKNOWN = "4600000000008"
MARK = "010487000100014121abc123"


def nkt_element(nkt, title, title_kk, unit, gtin=None, ntin=None, marked=False):
    it = {"measure_unit_code": unit, "is_markedeac": marked}
    if gtin:
        it["barcode"] = gtin
    if ntin:
        it["ntin"] = ntin
    return {"type": 1, "id": nkt, "title": title, "title_kk": title_kk, "item": it}


NKT_ELEMENTS = [
    {"type": 0, "id": 1, "title": "Продукты питания", "title_kk": "Азық-түлік"},
    nkt_element(100, "Хлеб белый, 500 г", "Ақ нан, 500 г", "796", gtin=BREAD),
    nkt_element(111, "Кумыс, в розлив", "Қымыз, құйып сату", "112", ntin=KUMYS),
    nkt_element(118, "Обувь, кожаные ботинки", "Аяқ киім, былғары бәтеңке", "715", gtin=SHOES, marked=True),
    nkt_element(116, "Сигареты «Алатау», 20 шт", "Темекі «Алатау», 20 дана", "796", gtin=CIGARETTES, marked=True),
]


class Link(MemOfd):
    # the in-memory OFD behind a link that can break; `code` set: every
    # request is answered with that result code; log: (command, request).
    # COMMAND_NOMENCLATURE is answered as PROTOCOL.md section 10 says, from
    # elements of catalogue version `version`: by barcode (result 18 when
    # unknown), by version
    def __init__(self, token):
        MemOfd.__init__(self, token)
        self.addrs = {HOST: 1}  # client: a host without an address is skipped
        self.code = None
        self.log = []
        self.x = None  # the OFD's X for COMMAND_REPORT answers (None: no report)
        self.text = None  # result_text of the answers with `code`
        self.version = 3
        self.elements = NKT_ELEMENTS

    def cut(self):
        self.addrs.clear()

    def restore(self):
        self.addrs[HOST] = 1

    def handle(self, data):
        h, body = frame.split(data)
        req = codec.decode(S.Request, body)
        self.log.append((req["command"], req))
        if self.code is None and req["command"] == S.COMMAND_NOMENCLATURE and h.token == self.token:
            return self._nomenclature(h, req["nomenclature"])
        if self.code is None and self.x is not None and req["command"] == S.COMMAND_REPORT \
                and h.token == self.token:
            resp = {"command": req["command"], "result": {"result_code": 0},
                    "report": {"report": S.REPORT_X, "zx_report": self.x}}
            self.token += 1
            return frame.build(codec.encode(S.Response, resp), KKM, self.token, h.reqnum)
        if self.code is None:
            return MemOfd.handle(self, data)
        resp = {"command": req["command"], "result": {"result_code": self.code}}
        if self.text is not None:
            resp["result"]["result_text"] = self.text
        return frame.build(codec.encode(S.Response, resp), KKM, h.token, h.reqnum)

    def commands(self, since=0):
        return [c for c, r in self.log[since:]]

    def _nomenclature(self, h, nr):
        n = {"version": self.version, "result": S.NOMENCLATURE_RESPONSE_RESULT_TYPE_OK}
        code = 0
        if "barcode" in nr:
            found = [e for e in self.elements if nr["barcode"] in (e.get("item", {}).get("barcode"),
                                                                  e.get("item", {}).get("ntin"))]
            if found:
                n["elements"] = found
            else:
                n["result"] = S.NOMENCLATURE_RESPONSE_RESULT_TYPE_ELEMENT_NOT_FOUND_BY_BARCODE
                code = 18
        elif nr.get("current_version") == self.version:
            n["result"] = S.NOMENCLATURE_RESPONSE_RESULT_TYPE_VERSION_IS_ACTUAL
        else:
            n["elements"] = self.elements
        resp = {"command": S.COMMAND_NOMENCLATURE, "result": {"result_code": code}, "nomenclature": n}
        return frame.build(codec.encode(S.Response, resp), KKM, h.token, h.reqnum)

    def asked(self):
        return [r["nomenclature"] for c, r in self.log if c == S.COMMAND_NOMENCLATURE]


def run(coro):
    return asyncio.run(coro)


class OfdSync(Y.Sender):
    # the sender stepped synchronously, as the tests drive it; a new one
    # takes over the register's live documents (the register's sender)
    def __init__(self, reg, port=None, **kw):
        Y.Sender.__init__(self, reg, port or reg.sender.port, **kw)
        reg.sender = self

    def tick(self):
        return run(self.step())

    def note(self):
        # take in the port's last exchange, one the test made directly
        self._observe(self.port.last, self.now(), False)


def link_bench(link=None):
    link = link or Link(REG["token"])

    def make(acc):
        return OfdPort(link_client(link, [HOST], KKM, 1), acc)

    b = fiscalised_bench(log_blocks=12, make_ofd=make)
    b.link = link
    return b


def online_bench(**kw):
    # a register whose power-on test passed
    b = link_bench()
    s = OfdSync(b.reg, **kw)
    assert s.tick() == "test" and s.test == Y.TEST_OK
    b.sync = s
    return b, s


def queue_offline(b, n):
    # n sales issued offline (the link is down)
    b.link.cut()
    for _ in range(n):
        assert sell(b.reg).offline
    return list(b.reg.acc.unacked())
