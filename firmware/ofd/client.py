# The device side of one KKM <-> OFD exchange (PROTOCOL.md sections 1, 2,
# 12, 13, 15): connect, send header + payload, read the answer frame, close,
# all within the total transaction time (at least 5 s: KZ-29, KZ-25).
#
#   c = OfdClient(transport, hosts, kkm_id, token, reqnum=0, persist=None,
#                 budget_ms=5000)
#   out = c.exchange(request_dict, key=None)      -> Outcome
#   out = c.exchange_payload(payload, command, key=None)
#   c.state() -> {"token", "reqnum", "pending_key", "pending", "done"}
#   classify(code) -> (status, reason)
#
# transport.connect(host, port, timeout_s) returns a stream with read(n) (or
# readinto), write(b) and close(), and optionally settimeout(s); OSError means
# the channel failed. SocketTransport below is the plain-socket transport
# (Wi-Fi on the device, loopback in tests); a modem driver offers the same.
# A transport may also offer configure(hosts) and refresh(): the client
# calls configure when its addresses are set (construction, set_hosts) and
# refresh from c.refresh(); SocketTransport resolves names there and never
# inside an exchange (KZ-29: a lookup cannot be bounded by the budget).
#
# Session rules:
# - every new request takes the next REQNUM (65535 -> 0, section 15); the
#   new number is handed to persist() before the request leaves (a power
#   cut can never make the device reuse a number for another request);
# - the TOKEN of every valid answer is handed to persist() BEFORE it is
#   adopted (write-ahead); if persist() raises, the old token stays and the
#   exception reaches the caller; with it goes "done" = (key, command,
#   reqnum, token) of the request a result 0 answered, so that a caller
#   whose power failed before it recorded the answer can send that request
#   again as a duplicate (ofd.port restores it as pending);
# - when no valid answer arrives (timeout, refused or dropped connection,
#   truncated or malformed answer, 254/255) the request is sent again with
#   the SAME TOKEN and REQNUM until the budget is spent; if it is spent,
#   the request stays "pending": a later exchange with the same key sends
#   it again with the same TOKEN, REQNUM and command (the payload as the
#   caller rebuilt it, e.g. now with the offline period and the offline
#   number, or the stored bytes when none is given), so the OFD answers a
#   document it already stored with its stored answer (duplicate
#   detection) instead of storing it twice, and stores it as an offline
#   document if it never got it.
#
# Outcome.status: "ok" (result 0), "retry" (no valid answer or 254/255:
# work offline, resend later), "offline" (the OFD says to work offline:
# 6, 7), "blocked" (every other code: fix before anything else; 15 is the
# OFD's block, reason "server_block").

from compat import const, sleep_ms, ticks_add, ticks_diff, ticks_ms
from ofd import ProtocolError
from ofd import codec
from ofd import frame
from ofd import header as hdr
from ofd import schema as S

MIN_BUDGET_MS = const(5000)  # KZ-29: 5 seconds to get the OFD's answer
RETRY_PAUSE_MS = const(200)
# a host whose lookup failed is looked up again by refresh() at most once
# per this pause (PROTOCOL.md section 13: retry interval at least 60 s)
RESOLVE_PAUSE_MS = const(60000)
EHOSTUNREACH = const(113)

OK = "ok"
RETRY = "retry"
OFFLINE = "offline"
BLOCKED = "blocked"

# result code -> (status, reason); unknown codes are "blocked"
_CODES = {
    0: (OK, "ok"),
    1: (BLOCKED, "unknown_id"),
    2: (BLOCKED, "invalid_token"),
    3: (BLOCKED, "protocol_error"),
    4: (BLOCKED, "unknown_command"),
    5: (BLOCKED, "unsupported_command"),
    6: (OFFLINE, "invalid_configuration"),
    7: (OFFLINE, "ssl_not_allowed"),
    8: (BLOCKED, "invalid_request_number"),
    9: (BLOCKED, "invalid_retry_request"),
    10: (BLOCKED, "cant_cancel_ticket"),
    11: (BLOCKED, "shift_expired"),
    12: (BLOCKED, "invalid_login_password"),
    13: (BLOCKED, "incorrect_request_data"),
    14: (BLOCKED, "not_enough_cash"),
    15: (BLOCKED, "server_block"),
    16: (BLOCKED, "shift_already_opened"),
    17: (BLOCKED, "same_taxpayer_and_customer"),
    18: (BLOCKED, "not_in_catalogue"),
    254: (RETRY, "service_unavailable"),
    255: (RETRY, "unknown_error"),
}


def classify(code):
    # PROTOCOL.md section 12: the device's reaction to a result code
    r = _CODES.get(code)
    if r is None:
        return BLOCKED, "unknown_result"
    return r


class Outcome:
    # status, reason: see classify(); code: the result code or None when no
    # valid answer came; response: the decoded Response dict (or None);
    # attempts, elapsed_ms; reqnum and token the request was sent with;
    # text: the OFD's result_text; resent: the pending request was resent
    def __init__(self, status, reason, code=None, response=None):
        self.status = status
        self.reason = reason
        self.code = code
        self.response = response
        self.attempts = 0
        self.elapsed_ms = 0
        self.reqnum = None
        self.token = None
        self.text = None
        self.resent = False
        self.new_token = None

    def ok(self):
        return self.status == OK


class _SockStream:
    # a connected socket as a stream on both runtimes
    def __init__(self, sock):
        self.sock = sock

    def settimeout(self, s):
        self.sock.settimeout(s)

    def read(self, n):
        return self.sock.recv(n)

    def write(self, b):
        mv = memoryview(b)
        sent = 0
        while sent < len(b):
            k = self.sock.send(mv[sent:])
            if not k:
                raise OSError(104)
            sent += k
        return sent

    def close(self):
        self.sock.close()


class _Deadline:
    # the answer stream with one deadline for all its bytes: before every
    # read the stream's timeout is set to the time that is left, so a slow
    # OFD that sends its answer byte by byte cannot stretch the exchange
    # beyond the total transaction time (KZ-29, PROTOCOL.md section 13)
    def __init__(self, stream, deadline):
        self.stream = stream
        self.deadline = deadline
        self.settimeout = getattr(stream, "settimeout", None)

    def _arm(self):
        left = ticks_diff(self.deadline, ticks_ms())
        if left <= 0:
            raise OSError(110)  # ETIMEDOUT
        if self.settimeout is not None:
            self.settimeout(left / 1000)

    def read(self, n):
        self._arm()
        rd = getattr(self.stream, "read", None)
        if rd is not None:
            return rd(n)
        buf = bytearray(n)
        k = self.stream.readinto(buf)
        return bytes(buf[:k]) if k else b""


class SocketTransport:
    # TCP through the runtime's socket module. Names are resolved once per
    # configuration (configure: at the client's construction and whenever
    # its addresses change) and the address is kept; connect() only uses
    # the kept address, so an exchange never waits on DNS (a lookup blocks
    # for as long as the resolver likes and cannot be bounded by the 5 s
    # budget, KZ-29). A host whose lookup failed has no address: the client
    # skips it at once (OfdClient._attempt); refresh() looks it up again, at
    # most once per RESOLVE_PAUSE_MS (the bounded retry).
    # resolver(host, port) -> getaddrinfo-style list; clock_ms() -> ms ticks
    def __init__(self, resolver=None, clock_ms=None):
        self.resolver = resolver
        self.clock_ms = clock_ms or ticks_ms
        self.hosts = []
        self.addrs = {}  # (host, port) -> (family, sockaddr)
        self.failed = {}  # (host, port) -> clock_ms() of the last failed lookup

    def configure(self, hosts):
        # a new configuration: forget every address, look each host up once
        self.hosts = [(h, p) for h, p in hosts]
        self.addrs = {}
        self.failed = {}
        self.refresh()

    def refresh(self):
        # look up the hosts without an address whose pause is over; returns
        # how many hosts have an address
        for hp in self.hosts:
            if hp in self.addrs:
                continue
            t = self.failed.get(hp)
            if t is not None and ticks_diff(self.clock_ms(), t) < RESOLVE_PAUSE_MS:
                continue
            try:
                if self.resolver is None:
                    import socket

                    ai = socket.getaddrinfo(hp[0], hp[1], 0, socket.SOCK_STREAM)[0]
                else:
                    ai = self.resolver(hp[0], hp[1])[0]
                self.addrs[hp] = (ai[0], ai[-1])
                if t is not None:
                    del self.failed[hp]
            except (OSError, IndexError):
                self.failed[hp] = self.clock_ms()
        return len(self.addrs)

    def connect(self, host, port, timeout_s):
        import socket

        a = self.addrs.get((host, port))
        if a is None:
            raise OSError(EHOSTUNREACH)  # no lookup here (see above)
        s = socket.socket(a[0], socket.SOCK_STREAM)
        try:
            s.settimeout(timeout_s)
            s.connect(a[1])
        except BaseException:
            s.close()
            raise
        return _SockStream(s)


class OfdClient:
    def __init__(self, transport, hosts, kkm_id, token, reqnum=0, persist=None, budget_ms=MIN_BUDGET_MS,
                 version=hdr.VERSION, max_size=hdr.MAX_SIZE, pending_key=None, pending=None):
        if not isinstance(budget_ms, int) or budget_ms < MIN_BUDGET_MS:
            raise ValueError("budget_ms", budget_ms)
        if not hosts:
            raise ValueError("hosts")
        self.transport = transport
        self.hosts = []
        self.set_hosts(hosts)  # [(host, port), ...] in priority order
        self.kkm_id = kkm_id
        self.token = token
        self.reqnum = reqnum
        self.persist = persist
        self.budget_ms = budget_ms
        self.version = version
        self.max_size = max_size
        # the request still owed an answer: (key, payload, command, reqnum, token)
        self.pending = None
        if pending_key is not None and pending is not None:
            self.pending = (pending_key, bytes(pending[0]), pending[1], pending[2], pending[3])
        self.last = None
        self.host_index = 0
        self.done = None  # (key, command, reqnum, token) last answered with 0

    def set_hosts(self, hosts):
        # the OFD addresses (a configuration change): the transport resolves
        # them now, outside any exchange
        if not hosts:
            raise ValueError("hosts")
        self.hosts = list(hosts)
        self.host_index = 0
        conf = getattr(self.transport, "configure", None)
        if conf is not None:
            conf(self.hosts)

    def refresh(self):
        # the transport's bounded retry of failed lookups (never called by
        # an exchange: the caller's idle time, e.g. the connection probe)
        f = getattr(self.transport, "refresh", None)
        if f is not None:
            f()

    def state(self):
        # what persist() receives and what a restart needs back
        p = self.pending
        return {
            "token": self.token,
            "reqnum": self.reqnum,
            "pending_key": None if p is None else p[0],
            "pending": None if p is None else (p[1], p[2], p[3], p[4]),
            "done": self.done,
        }

    def _save(self, token, reqnum, pending, done=None):
        st = {"token": token, "reqnum": reqnum,
              "pending_key": None if pending is None else pending[0],
              "pending": None if pending is None else (pending[1], pending[2], pending[3], pending[4]),
              "done": done}
        if self.persist is not None:
            self.persist(st)

    def exchange(self, req, key=None):
        # req: Request dict; key: the caller's identity of the document (e.g.
        # its journal sequence) so that an unanswered request is resent as is
        return self.exchange_payload(codec.encode(S.Request, req), req["command"], key)

    def exchange_payload(self, payload, command, key=None):
        start = ticks_ms()
        deadline = ticks_add(start, self.budget_ms)
        p = self.pending
        resent = False
        if p is not None and key is not None and p[0] == key:
            # resend the unanswered request with the same TOKEN and REQNUM
            # (and command); the caller may have rebuilt the payload with the
            # offline period, otherwise the stored bytes go again
            if payload:
                p = (key, bytes(payload), p[2], p[3], p[4])
                self.pending = p
            payload, command, reqnum, token = p[1], p[2], p[3], p[4]
            resent = True
        else:
            reqnum = hdr.next_reqnum(self.reqnum)
            token = self.token
            p = (key, bytes(payload), command, reqnum, token)
            self._save(token, reqnum, p)  # write-ahead of the request number
            self.reqnum = reqnum
            self.pending = p
        data = frame.build(payload, self.kkm_id, token, reqnum, self.version)
        out = None
        attempts = 0
        unresolved = 0
        while True:
            attempts += 1
            left = ticks_diff(deadline, ticks_ms())
            if left <= 0:
                break
            out = self._attempt(data, command, reqnum, left)
            if out.status != RETRY:
                break
            if out.reason == "unresolved":
                # no address for this host: the next one at once; none at
                # all: offline now, not after the budget
                unresolved += 1
                if unresolved >= len(self.hosts):
                    break
                continue
            unresolved = 0
            left = ticks_diff(deadline, ticks_ms())
            if left <= RETRY_PAUSE_MS:
                break
            sleep_ms(RETRY_PAUSE_MS)
        if out is None:
            out = Outcome(RETRY, "timeout")
        out.attempts = attempts
        out.elapsed_ms = ticks_diff(ticks_ms(), start)
        out.reqnum = reqnum
        out.token = token
        out.resent = resent
        if out.code is not None:
            # a valid answer: adopt its token (write-ahead), the request is
            # done; a code 2 answer refuses our token and grants none
            new_token = self.token if out.code == 2 else out.new_token
            done = None
            if out.status == RETRY:
                keep = self.pending
            else:
                keep = None
                p = self.pending
                if out.status == OK and p is not None and p[0] is not None:
                    done = (p[0], p[2], p[3], p[4])
            if new_token != self.token or keep is not self.pending:
                self._save(new_token, self.reqnum, keep, done)
            self.token = new_token
            self.pending = keep
            self.done = done
        self.last = out
        return out

    def _attempt(self, data, command, reqnum, left_ms):
        # one connection: Outcome; status RETRY with code None = no valid answer
        host, port = self.hosts[self.host_index % len(self.hosts)]
        addrs = getattr(self.transport, "addrs", None)
        if addrs is not None and (host, port) not in addrs:
            self.host_index += 1  # its name has no address (SocketTransport)
            return Outcome(RETRY, "unresolved")
        try:
            stream = self.transport.connect(host, port, left_ms / 1000)
        except OSError:
            self.host_index += 1  # the next address next time (KZ-18 failover)
            return Outcome(RETRY, "refused")
        t0 = ticks_ms()
        try:
            timed = _Deadline(stream, ticks_add(t0, left_ms))
            timed._arm()
            stream.write(data)
            h, body = frame.read_frame(timed, self.version, self.max_size)
            if ticks_diff(ticks_ms(), t0) > left_ms:
                return Outcome(RETRY, "timeout")
            if h.id != self.kkm_id:
                raise ProtocolError("wrong id", h.id)
            if h.reqnum != reqnum:
                raise ProtocolError("wrong reqnum", h.reqnum)
            resp = codec.decode(S.Response, body)
            code = resp["result"]["result_code"]
            if code == 0 and resp["command"] != command:
                raise ProtocolError("wrong command", resp["command"])
            if code == 0 and command == S.COMMAND_TICKET and "ticket" not in resp:
                raise ProtocolError("missing required field", "ticket")
        except ProtocolError:
            return Outcome(RETRY, "malformed")
        except OSError as e:
            return Outcome(RETRY, "timeout" if _is_timeout(e) else "dropped")
        finally:
            try:
                stream.close()
            except OSError:
                pass
        status, reason = classify(code)
        out = Outcome(status, reason, code, resp)
        out.text = resp["result"].get("result_text")
        out.new_token = h.token
        return out


def _is_timeout(e):
    a = e.args[0] if e.args else None
    return a == 110 or a == 116 or a == "timed out" or type(e).__name__ == "timeout" or \
        type(e).__name__ == "TimeoutError"


class Blocking:
    # this blocking client behind the exchange the sender awaits
    # (ofd.sender): the exchange completes before it returns
    def __init__(self, client):
        self.session = client  # token, reqnum, pending, done, state(), persist

    async def exchange(self, payload, command, key=None, budget_ms=MIN_BUDGET_MS):
        c = self.session
        c.budget_ms = budget_ms
        return c.exchange_payload(payload, command, key)

    def set_hosts(self, hosts):
        self.session.set_hosts(hosts)

    def refresh(self):
        self.session.refresh()
