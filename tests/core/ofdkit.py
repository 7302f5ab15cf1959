# An in-memory OFD for the tests that run the register, ofd.port and
# ofd.client for real on the NOR emulator (no sockets, so they also run under
# the MicroPython unix port). The OFD side is reduced to token, duplicates
# and storage: it rotates the token on every answer, answers a resend (same
# token, request number and command as its last exchange) with its stored
# answer, refuses a wrong token with result 2, and stores every other
# request.
from ofd import codec
from ofd import frame
from ofd import schema as S
from regkit import REG

KKM = int(REG["kkm_id"])


class MemOfd:
    def __init__(self, token):
        self.token = token
        self.last = None  # (token, reqnum, command, answer bytes)
        self.stored = []  # request payloads stored as documents
        self.duplicates = 0
        self.up = True

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
        cmd = codec.decode(S.Request, body)["command"]
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
