# The register's OFD port: turns a journalled document into a protocol
# request, exchanges it through the async client and reads the answer into
# what Register.settle takes. The sender (ofd.sender) calls it; the port
# itself writes only the OFD session (R-79, PROTOCOL.md section 2): the
# session's persist() goes to Register.save_session, an R_SESSION record
# written before the client uses the new values. What it reads of the
# register: settings, clock, user names, the texts' versions, the session
# record, the token entry, the locks it relays (ofd_order).
#
#   port = OfdPort(client, acc, version="0.1", model=None)
#       client: await client.exchange(payload, command, key, budget_ms) ->
#       Outcome; client.session: token, reqnum, pending, done, state(),
#       persist; client.set_hosts(hosts), client.refresh()
#   port.bind(register)        restores the session from the journal (else
#                              the settings token)
#   await port.send(kind, doc_seq, payload, live=False) -> Outcome, or None:
#                              not sent (live: as issued, not from the queue)
#   port.accepted(out, kind, doc_seq, payload) -> kkm.register.Accepted or None
#   await port.report_x(zx)    -> Outcome or None (X to the OFD)
#   port.server_x(out)         -> the OFD's X of that answer (KZ-31.4) or None
#   await port.probe(get_reg_info=True) -> Outcome or None (COMMAND_SYSTEM)
#   await port.nomenclature(barcode=None, version=0) -> Outcome or None
#                              (COMMAND_NOMENCLATURE for ofd.sender's
#                              catalogue lookup and version check; not while
#                              offline_since)
#   port.offline_since         register time offline work began, or None:
#                              every request carries the offline period from
#                              it until one is accepted with nothing left
#                              waiting (KZ-30.1, section 13); no_answer(t)
#                              starts it for an exchange given up
#   port.apply_token()         a token entered (Register.token_entry) becomes
#                              the session token, journalled; also before
#                              every exchange
#   port.apply_hosts()         the OFD addresses of the settings, when changed
#   port.budget_ms()           the settings' total transaction time (>= 5 s)
#   port.owed()                True while a document holds the session: no
#                              probe or X report goes before it
#   port.last                  the last Outcome
#   port.position              (latitude, longitude, source) a channel found
#                              (the modem's cell or GNSS fix, S000-2), or
#                              None: the settings' geo_position is sent
#   port.refusal               (doc seq, result code, text or None) of the
#                              last document the OFD refused, or None
#
# kind is "receipt", "placement" or "z"; payload is what the register
# journalled: kkm.records.doc_header(shift, number) + the document's bytes.
# The request is rebuilt from the record on every attempt and is a pure
# function of it, so a resend carries the sale's own date and time, and a
# receipt's own VAT rates: the register stamps each line's effective rate
# (and the seller's VAT status) into the receipt before journalling it, so
# re-programmed tax groups or a dated rate change (medicines 5 % -> 10 % on
# 2027-01-01) never alter a queued document. Only the service block (the
# offline period, the registration data) is built anew for each attempt.
#
# A document whose autonomous fiscal sign is in the journal (an R_SIGN
# record after it) was issued offline: its request carries
# offline_ticket_number = that sign, the number printed and in the QR code
# (kkm.records.autonomous_sign, KZ-29.3, KZ-30.3), is_offline for
# placements and Z, and service.offline_period (KZ-30.1): from the moment
# offline work began to now. That start stays the same through the whole
# replay and across a reboot: the session record carries it, and the port
# journals a session record when an offline period begins and when it ends
# (an accepted request with nothing left waiting). A request whose answer
# was lost is sent again with the same token and request number
# (ofd.client), now saying the document was issued offline: the OFD returns
# the sign it already gave instead of storing the document twice and counts
# the document as the register printed it (docs/protocol.md, "A lost
# answer"). Only a document holds the session that way: an unanswered
# probe or X report (no key) is not resent, the next request takes a new
# number.
# For placements and Z (no fiscal sign in the answer) the acknowledgement
# text is "ack:<request number>".
#
# A Z's open_shift_time is the time of the shift's first document, which
# the register stamps in the Z record (kkm.records.z_body).
#
# Texts from the OFD (KZ-17, PROTOCOL.md section 9): the ticket_ads of every
# answer (the decoded Response in Outcome.response, any result code) go to
# ofd.texts.take; every request reports the versions
# the register holds (service.ticket_ad_infos), so the OFD sends only newer
# texts. The register prints new texts after the document or the X report
# it is issuing; after a probe the port asks it to print them at once.
#
# Result codes that change the register's state (PROTOCOL.md sections 12,
# 13) go to Register.ofd_order: 15 (server block) engages OFD_SUSPEND, 1
# (unknown id) DATA_MISMATCH, 2 (invalid token) INVALID_TOKEN; a result 0
# ends the first two. While INVALID_TOKEN is on nothing is sent ("no
# sending possible until the token is reset"): a token entered in the
# settings clears it and becomes the session token.
#
# A document refused (any other blocking code: PROTOCOL.md section 13,
# "BLOCKED until the offending message is removed after analysis") stays
# the queue's head; refusal keeps the OFD's word on it. It is replaced by
# the next refusal and cleared when the same document's next attempt ends
# otherwise (answered 0, or 254/255 or no answer: then the OFD may hold the
# request, and only a fresh refusal allows setting it aside). RAM only:
# after a reboot the sender sends the head once and the refusal comes
# again (docs/register.md, "A document the OFD refuses").


from compat import const
from kkm import counters as C
from kkm import document as D
from kkm import doccodec as DC
from kkm import locks as L
from kkm import records as R
from kkm.records import pack_session, unpack_session
from kkm.register import Accepted
from ofd import ProtocolError
from ofd import client as cl
from ofd import codec
from ofd import messages as M
from ofd import schema as S

MAX_TEXT = const(160)  # characters of the OFD's result text kept with a refusal
KINDS = {"receipt": R.R_RECEIPT, "placement": R.R_PLACEMENT, "z": R.R_ZDOC}


def _encoded(req):
    # a Request dict -> (its bytes, its command)
    return codec.encode(S.Request, req), req["command"]


class OfdPort:
    def __init__(self, client, acc, version="0.1", model=None):
        # client: await client.exchange(payload, command, key, budget_ms)
        # -> Outcome; client.session: token, reqnum, pending, done, state(),
        # persist (the write-ahead hook)
        self.client = client
        self.session = client.session
        self.acc = acc
        self.reg = None
        self.version = version
        self.model = model
        self.last = None
        self.refusal = None  # (doc seq, code, text) of the last refusal (see the header)
        # the start of the offline period (see the header; section 13: from
        # the first failed attempt until a successful connection, a break
        # while idle too)
        self.offline_since = None
        self._hosts = None  # the settings' addresses the client has
        self.position = None

    def bind(self, reg):
        self.reg = reg
        self.restore()
        self.session.persist = self._persist
        self.apply_hosts()
        try:
            self.apply_token()  # an entry a power cut left half done
        except L.Locked:
            pass  # taken before the next exchange

    # --- the session in the journal (R-79) -----------------------------------

    def _persist(self, st):
        # the client's write-ahead: raises (Locked) when it cannot be
        # journalled, and then the client neither sends nor adopts
        self.reg.save_session(pack_session(st, self.offline_since))

    def restore(self):
        # the client's session as the journal has it (after a power cut):
        # the latest R_SESSION (or the checkpoint's copy); without one, the
        # token entered at fiscalisation. A request answered (result 0) but
        # whose document is still unacknowledged (power failed before the
        # register journalled the answer) is pending again: it goes out with
        # its TOKEN and REQNUM and the OFD answers it as a duplicate.
        c = self.session
        data = self.reg.ofd_session
        if not data:
            self._seed()
            return False
        token, reqnum, pend, done, self.offline_since = unpack_session(data)
        c.token = token
        c.reqnum = reqnum
        c.pending = None
        c.done = done
        if pend is not None and pend[0] is not None:
            c.pending = (pend[0], b"", pend[1], pend[2], pend[3])
        elif done is not None and self.acc.is_unacked(done[0]):
            c.pending = (done[0], b"", done[1], done[2], done[3])
        # an unanswered probe or X report (no key) is not kept: the next
        # request takes a new number (see the header)
        return True

    def apply_hosts(self):
        # KZ-40.1: the OFD addresses of the settings, in priority order (the
        # client resolves them when they change, outside any exchange); none
        # configured: the client keeps the ones it was built with
        hosts = self.reg.settings.get("ofd_hosts")
        if hosts and hosts != self._hosts:
            self.client.set_hosts([(h[0], h[1]) for h in hosts])
            self._hosts = hosts

    def budget_ms(self):
        # PROTOCOL.md section 13: the settings' total transaction time
        # (kkm.settings refuses less than 5 s)
        t = self.reg.settings.get("timeout_s")
        return t * 1000 if isinstance(t, int) and t * 1000 >= cl.MIN_BUDGET_MS else cl.MIN_BUDGET_MS

    def apply_token(self):
        # a token entered in the settings (KZ-41; Register.token_entry)
        # replaces the session token, journalled (R_SESSION) before the
        # client uses it; raises Locked when that record cannot be written.
        # REQNUM goes on (PROTOCOL.md section 2). A request still owed an
        # answer keeps the TOKEN and REQNUM it was sent with: its resend is
        # the same request, answered as a duplicate if the OFD stored it.
        reg = self.reg
        t = reg.token_entry
        if t is None:
            return
        c = self.session
        self._seed()
        st = c.state()
        st["token"] = t
        self._persist(st)
        c.token = t
        reg.token_entry = None

    def _ready(self):
        # may the port send now? the session is seeded, a token entry is
        # taken; not while the OFD's refusal of the token stands
        self._seed()
        if self.reg.token_entry is not None:
            try:
                self.apply_token()
            except L.Locked:
                return False
        return not self.reg.locks.is_set(L.INVALID_TOKEN)

    def _react(self, out):
        # result codes that engage or end a lock (see the header)
        code = out.code
        if code is None:
            return
        reg = self.reg
        lk = reg.locks
        if code == 0:
            if lk.is_set(L.OFD_SUSPEND):
                reg.ofd_order(suspend=False)  # section 13: left on result 0
            if lk.is_set(L.DATA_MISMATCH):
                reg.ofd_order(mismatch=False)
        elif code == 15:
            if not lk.is_set(L.OFD_SUSPEND):
                reg.ofd_order(suspend=True)
        elif code == 1:
            if not lk.is_set(L.DATA_MISMATCH):
                reg.ofd_order(mismatch=True)
        elif code == 2:
            # refused the token the session holds now; the refusal of an
            # older request's token (sent before a token was entered) says
            # nothing about the entered one
            if out.token == self.session.token and not lk.is_set(L.INVALID_TOKEN):
                reg.ofd_order(bad_token=True)

    def _document(self, kind, doc_seq, payload, live):
        # a document's request, encoded in a plain call: no coroutine frame
        # keeps its dicts (a Z's report, a ticket's lines) through the exchange
        return _encoded(self.build(kind, doc_seq, payload, live))

    async def _exchange(self, data, command, key=None, doc=True):
        t = self.reg.clock.now()
        self.apply_hosts()
        out = await self.client.exchange(data, command, key, self.budget_ms())
        if doc or out.status != cl.BLOCKED:
            # a catalogue refusal (18: no such code) is no news about the
            # queue's head, which ofd.sender would take it for
            self.last = out
        if self.offline_since is not None and out.status == cl.OK:
            acc = self.acc
            left = acc.unacked_count() - (1 if key is not None and acc.is_unacked(key) else 0)
            if left <= 0:
                self._offline(None)  # accepted, nothing else waits: back online
        elif out.status == cl.RETRY and self.offline_since is None:
            self._offline(t)  # the first failed attempt
        self._react(out)
        self._texts(out)
        return out

    def no_answer(self, t):
        # an exchange begun at t was given up (the live budget spent): the
        # offline period begins there unless it already runs
        if self.offline_since is None:
            self._offline(t)

    def _texts(self, out):
        # KZ-17: the texts of the answer to the register (see the header)
        resp = out.response
        svc = resp.get("service") if resp is not None else None
        ads = svc.get("ticket_ads") if svc is not None else None
        if ads:
            try:
                from ofd import texts

                texts.take(self.reg, ads, out.code == 15)
            except Exception:
                pass  # a text must never cost a document its OFD answer

    def _offline(self, since):
        # the offline period begins (since) or ends (None); journalled in a
        # session record when it fits outside the reserve, else RAM only
        # (after a reboot the oldest queued document stands in for it)
        self.offline_since = since
        self._seed()
        if self._room():
            try:
                self._persist(self.session.state())
            except L.Locked:
                pass

    def _seed(self):
        # no session journalled yet: the token entered at fiscalisation
        if not self.reg.ofd_session:
            t = self.reg.settings.get("token")
            if t:
                self.session.token = int(t)

    def _room(self):
        # an X report or probe writes two session records: only outside the
        # reserve kept for the queue and the shift close
        n = R.SESSION_ROOM
        return self.acc.can_append((n, n), self.reg.clock.now())

    # --- reading the journal ------------------------------------------------

    def _service(self, offline):
        # the offline period (offline: the request is a document issued
        # offline, or one sent while documents wait) from offline_since; a
        # queued document without it (refused by the OFD, or a reboot lost
        # the start) fixes it at the oldest unsent document
        since = self.offline_since
        s = self.reg.settings
        reg_info = M.reg_info(s.get("rnm"), s.get("factory_no"), s.get("kkm_id"), s.get("taxpayer"),
                              s.get("address"), s.get("bin"))
        t = self.reg.ofd_texts
        ads = None if t is None else t.infos()  # the texts' versions held (KZ-17)
        geo = self.position or s.get("geo_position")  # S000-2: every service block
        if not offline and since is None:
            return M.service(reg_info, ad_infos=ads, geo=geo)
        off = s.get("tz_offset")
        now = self.reg.clock.now()
        if since is None:
            since = self.acc.oldest_unacked_ts()
            if since is None or since > now:
                since = now
            # kept: the session records of this exchange journal it
            self.offline_since = since
        begin = since if since <= now else now
        return M.service(reg_info, begin + off, now + off, ad_infos=ads, geo=geo)

    # --- requests -------------------------------------------------------------

    def build(self, kind, doc_seq, payload, live=False):
        # the Request dict for a journalled document; live: sent as it is
        # issued (Sender.live), not from the queue
        reg = self.reg
        rtype = KINDS.get(kind)
        if rtype is None:
            raise ProtocolError("unknown document kind", kind)
        shift_no, number, body = R.split_doc(payload)
        acc = self.acc
        # a live document is the last record: its time without reading it back
        ts = acc.last_ts if doc_seq == acc.last_seq else acc.read(doc_seq)[1]
        # the UTC offset and the operator's name stamped in the document at
        # fiscalisation; an older record without them takes today's
        off = reg.settings.get("tz_offset")
        sign = R.sign_of(self.acc, doc_seq)  # the autonomous sign: issued offline
        offline = sign is not None
        if rtype == R.R_ZDOC and not live:
            # the register writes no autonomous sign for a Z: a Z sent from
            # the queue was closed offline (KZ-29.7)
            offline = True
        if rtype == R.R_RECEIPT:
            r = DC.decode_receipt(body)
            # the rates stamped at fiscalisation (what the paper says and the
            # counters hold); only an old record without them takes the
            # table in force on the document's own date, never today's
            table = None if r.stamped() else reg.settings.tax_table(ts)
            name = self.reg.user_name(r.cashier_code)
            if r.utc_offset is not None:
                off = r.utc_offset
                name = r.operator_name
            t = M.ticket(r, table, ts + off, shift_no, number, int(sign) if offline else None,
                         name, off)
            return M.ticket_request(t, self._service(offline))
        if rtype == R.R_PLACEMENT:
            p = DC.decode_placement(body)
            name = self.reg.user_name(p.cashier_code)
            if p.utc_offset is not None:
                off = p.utc_offset
                name = p.operator_name
            mp = M.money_placement(p, ts + off, shift_no, number, offline, name)
            return M.placement_request(mp, self._service(offline))
        zx, close, code, name = self._z_report(doc_seq, payload, ts)
        cs = M.close_shift(zx, close, shift_no, code, offline, name)
        return M.close_shift_request(cs, self._service(offline))

    def _z_report(self, doc_seq, payload, ts=None):
        # a Z record -> (the register's Z as kkm.counters.zx_report makes it,
        # its local close time, the closing operator's code and name)
        shift_no, number, body = R.split_doc(payload)
        if ts is None:
            ts = self.acc.read(doc_seq)[1]
        open_ts, body = R.split_z(body)
        code, name, off, body = DC.decode_z(body)
        counters = C.ShiftCounters.decode(body)
        return counters.zx_report(C.REPORT_Z, shift_no, ts + off, open_ts + off, ts + off), ts + off, code, name

    async def send(self, kind, doc_seq, payload, live=False):
        # a journalled document to the OFD -> Outcome, or None when nothing
        # may be sent (a token refused, one entered and not journalled). An
        # unanswered earlier attempt of it is sent again with its TOKEN and
        # REQNUM (the key is the journal sequence)
        if not self._ready():
            return None
        c = self.session
        d = c.done
        p = c.pending
        if (p is None or p[0] is None) and d is not None and d[0] == doc_seq:
            # answered before, but the answer never reached the journal (its
            # ACK failed): the same request again, answered as a duplicate
            c.pending = (d[0], b"", d[1], d[2], d[3])
        data, command = self._document(kind, doc_seq, payload, live)
        out = await self._exchange(data, command, doc_seq)
        r = self.refusal
        if out.status == cl.BLOCKED:
            t = out.text
            if isinstance(t, str):
                # printed on the service slip: no printer commands (ESC, GS)
                t = "".join([c if c >= " " and c != "\x7f" else " " for c in t[:MAX_TEXT]])
            else:
                t = None
            self.refusal = (doc_seq, out.code, t)
        elif r is not None and r[0] == doc_seq:
            self.refusal = None  # see the header
        return out

    def accepted(self, out, kind, doc_seq, payload):
        # the OFD's answer to a document as Register.settle takes it
        # (kkm.register.Accepted), or None: not accepted
        if out is None or out.status != cl.OK:
            return None
        ch = out.channel
        if kind == "receipt":
            return Accepted(str(out.response["ticket"]["ticket_number"]), None, ch)
        sign = "ack:%d" % out.reqnum
        if kind != "z":
            return Accepted(sign, None, ch)
        # KZ-31.5: the OFD's Z with the figures where the register's own Z
        # (rebuilt from the record, as the request was) says otherwise
        zx = self._server_report(out, S.REPORT_Z)
        if zx is not None:
            from ofd.xreport import differences

            zx["differs"] = differences(zx, self._z_report(doc_seq, payload)[0])
        return Accepted(sign, zx, ch)

    def owed(self):
        # does a document hold the session? Owed an answer, or answered but
        # not acknowledged in the journal: its resend must keep its TOKEN
        # and REQNUM (duplicate detection), so no probe or X report goes
        # before it (ofd.sender resends it instead; it heads the queue). An
        # unanswered probe or X report holds nothing back (see the header)
        c = self.session
        p = c.pending
        if p is not None and p[0] is not None:
            return True
        d = c.done
        return d is not None and self.acc.is_unacked(d[0])

    async def report_x(self, zx):
        # the device's X report to the OFD (COMMAND_REPORT, REPORT_X); the
        # sender prints the OFD's X when it answers with one (server_x)
        if self.owed() or not self._room() or not self._ready():
            return None
        data, command = self._x_request(zx)
        return await self._exchange(data, command)

    def _x_request(self, zx):
        # built in a plain call, so no coroutine frame keeps the request's
        # dicts while the answer is awaited
        off = self.reg.settings.get("tz_offset")
        return _encoded(M.report_request(M.report(S.REPORT_X, zx, self.reg.clock.now() + off), self._service(False)))

    def server_x(self, out):
        # KZ-31.4: the OFD's X of an answered X report in the shape
        # kkm.layout.report_lines prints (ofd.xreport, loaded with the first
        # one); None: no answer or no report in it
        return self._server_report(out, S.REPORT_X)

    def _server_report(self, out, kind):
        if out is None or out.status != cl.OK:
            return None
        rep = (out.response or {}).get("report") or {}
        zx = rep.get("zx_report")
        if rep.get("report", kind) != kind or not zx or "date_time" not in zx or "shift_number" not in zx \
                or "cash_sum" not in zx:
            return None
        from ofd.xreport import complete

        return complete(zx, kind == S.REPORT_Z)

    async def nomenclature(self, barcode=None, version=0):
        # the National Catalogue (S000-1): see the header
        if self.offline_since is not None or self.owed() or not self._room() or not self._ready():
            return None
        data, command = _encoded(M.nomenclature_request(barcode, version))
        return await self._exchange(data, command, None, False)

    async def probe(self, get_reg_info=True):
        # COMMAND_SYSTEM: connection check, registration data and, while
        # documents wait or after an idle break (offline_since), the offline
        # period (PROTOCOL.md section 13)
        self.client.refresh()  # retry due lookups of the OFD's name (never in an exchange)
        if self.owed() or not self._room() or not self._ready():
            return None
        data, command = self._probe_request(get_reg_info)
        return await self._exchange(data, command)

    def _probe_request(self, get_reg_info):
        # a plain call, as _x_request
        svc = self._service(self.acc.unacked_count() > 0)
        svc["get_reg_info"] = bool(get_reg_info)
        svc["software_information"] = M.software(self.version, model=self.model)
        return _encoded(M.system_request(svc))
