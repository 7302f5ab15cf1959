# The device's side of the OFD session, without any I/O (PROTOCOL.md
# sections 2, 12, 13, 15): who we are (ID), the exchange key (TOKEN), the
# request counter (REQNUM), the request still owed an answer and the last
# one answered. ofd.client moves the bytes; this module decides them.
#
#   s = Session(kkm_id, token, reqnum=0, persist=None)
#   data, reqnum, token = s.request(payload, command, key=None)
#   out = s.answer(header, body, command=None)     -> Outcome
#   s.state() -> {"token", "reqnum", "pending_key", "pending", "done"}
#   classify(code) -> (status, reason)
#
# Rules:
# - a new request takes the next REQNUM (65535 -> 0, section 15); persist()
#   gets the state with it before the number is used, so a power cut can
#   never make the device reuse a number for another request;
# - the request stays pending until a valid answer ends it; request() with
#   the key of the pending one gives its frame again with the SAME TOKEN,
#   REQNUM and command (the payload as the caller rebuilt it, e.g. now with
#   the offline period, or the stored bytes when none is given), so the OFD
#   answers a document it already stored with its stored answer instead of
#   storing it twice (section 13);
# - the TOKEN of every valid answer goes to persist() BEFORE it is adopted
#   (write-ahead, R-79), with "done" = (key, command, reqnum, token) of the
#   request a result 0 answered: a caller whose power failed before it
#   recorded the answer sends that request again as a duplicate;
# - persist() raising leaves the session as it was: nothing is sent, no
#   token adopted, and the exception reaches the caller.
#
# Outcome.status: "ok" (result 0), "retry" (no valid answer, or 254/255:
# try again, then work offline), "offline" (6, 7: the OFD says to work
# offline), "blocked" (every other code: fix before anything else; 15 is
# the OFD's block, reason "server_block").

from ofd import ProtocolError
from ofd import codec
from ofd import frame
from ofd import header as hdr
from ofd import schema as S

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
    # reqnum and token the request was sent with; text: the OFD's
    # result_text; new_token: the answer's TOKEN; resent: the pending
    # request went again; attempts, elapsed_ms, channel (the name of the
    # channel that carried the last attempt): filled in by ofd.client
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
        self.channel = None

    def ok(self):
        return self.status == OK


class Session:
    def __init__(self, kkm_id, token, reqnum=0, persist=None, version=hdr.VERSION):
        self.kkm_id = kkm_id
        self.token = token
        self.reqnum = reqnum
        self.persist = persist
        self.version = version
        self.pending = None  # (key, payload, command, reqnum, token) owed an answer
        self.done = None  # (key, command, reqnum, token) last answered with 0
        self.resent = False  # the last request() gave the pending request again

    def state(self):
        # what persist() receives and what a restart needs back
        return _state(self.token, self.reqnum, self.pending, self.done)

    def _save(self, token, reqnum, pending, done):
        if self.persist is not None:
            self.persist(_state(token, reqnum, pending, done))

    def request(self, payload, command, key=None):
        # -> (frame bytes, reqnum, token). key: the caller's identity of the
        # document (e.g. its journal sequence); None: a request nobody resends
        p = self.pending
        self.resent = p is not None and key is not None and p[0] == key
        if self.resent:
            if payload:
                p = (key, bytes(payload), p[2], p[3], p[4])
                self.pending = p
        else:
            reqnum = hdr.next_reqnum(self.reqnum)
            p = (key, bytes(payload), command, reqnum, self.token)
            self._save(self.token, reqnum, p, None)  # write-ahead of the number
            self.reqnum = reqnum
            self.pending = p
            self.done = None
        return frame.build(p[1], self.kkm_id, p[4], p[3], self.version), p[3], p[4]

    def answer(self, h, body, command=None):
        # the answer frame (header, payload) to the pending request ->
        # Outcome; a frame that is not a valid answer to it is RETRY
        # "malformed" and changes nothing
        p = self.pending
        if p is None:
            raise ValueError("no request")
        if command is None:
            command = p[2]
        try:
            if h.id != self.kkm_id:
                raise ProtocolError("wrong id", h.id)
            if h.reqnum != p[3]:
                raise ProtocolError("wrong reqnum", h.reqnum)
            resp = codec.decode(S.Response, body)
            code = resp["result"]["result_code"]
            if code == 0 and resp["command"] != command:
                raise ProtocolError("wrong command", resp["command"])
            if code == 0 and command == S.COMMAND_TICKET and "ticket" not in resp:
                raise ProtocolError("missing required field", "ticket")
        except (ProtocolError, KeyError):
            out = Outcome(RETRY, "malformed")
            out.reqnum = p[3]
            out.token = p[4]
            return out
        status, reason = classify(code)
        out = Outcome(status, reason, code, resp)
        out.text = resp["result"].get("result_text")
        out.new_token = h.token
        out.reqnum = p[3]
        out.token = p[4]
        out.resent = self.resent
        # a code 2 answer refuses our token and grants none
        token = self.token if code == 2 else h.token
        keep = p if status == RETRY else None
        done = (p[0], p[2], p[3], p[4]) if status == OK and p[0] is not None else None
        if token != self.token or keep is not p or done != self.done:
            self._save(token, self.reqnum, keep, done)
        self.token = token
        self.pending = keep
        self.done = done
        return out


def _state(token, reqnum, pending, done):
    p = pending
    return {
        "token": token,
        "reqnum": reqnum,
        "pending_key": None if p is None else p[0],
        "pending": None if p is None else (p[1], p[2], p[3], p[4]),
        "done": done,
    }
