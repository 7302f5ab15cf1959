"""Protocol logic of the simulated OFD: one request in, one answer out.

``Ofd.handle(header, payload)`` checks the register, the request number and
the token, detects duplicates, decodes the request with Google protobuf,
runs the command in one SQLite transaction (documents are stored before the
answer exists) and returns the answer token and payload.
"""

import json
import logging
import os
import secrets

from tools.ofdsim import zcheck, zx
from tools.ofdsim.header import VERSION
from tools.ofdsim.pbutil import (dt_tuple, from_iso, iso, now_local, set_dt, set_money, tiyn, to_epoch)
from tools.ofdsim.sign import fiscal_sign, qr_payload

# Result codes (PROTOCOL.md §12)
OK = 0
UNKNOWN_ID = 1
INVALID_TOKEN = 2
PROTOCOL_ERROR = 3
UNKNOWN_COMMAND = 4
UNSUPPORTED_COMMAND = 5
INVALID_REQUEST_NUMBER = 8
INVALID_RETRY_REQUEST = 9
OPEN_SHIFT_TIMEOUT_EXPIRED = 11
INCORRECT_REQUEST_DATA = 13
NOT_ENOUGH_CASH = 14
BLOCKED = 15
SAME_TAXPAYER_AND_CUSTOMER = 17
ELEMENT_NOT_FOUND_BY_BARCODE = 18
SERVICE_TEMPORARILY_UNAVAILABLE = 254
UNKNOWN_ERROR = 255

# Commands (PROTOCOL.md §3)
SYSTEM, TICKET, CLOSE_SHIFT, REPORT, NOMENCLATURE, INFO, MONEY_PLACEMENT, CANCEL_TICKET, AUTH = range(9)
RESERVED = 127
KNOWN_COMMANDS = (SYSTEM, TICKET, CLOSE_SHIFT, REPORT, NOMENCLATURE, INFO, MONEY_PLACEMENT, CANCEL_TICKET, AUTH,
                  RESERVED)
# Commands after which the protocol says the token may change.
ROTATING = (TICKET, CLOSE_SHIFT, MONEY_PLACEMENT, CANCEL_TICKET, RESERVED)

log = logging.getLogger("ofdsim")

SHIFT_LIMIT_S = 24 * 3600
TICKET_AD_INFO = 4
# Answers whose service block carries the texts (ticket_ads) newer than the
# versions the request reports (PROTOCOL.md section 9)
TEXT_COMMANDS = (SYSTEM, TICKET, CLOSE_SHIFT, REPORT, INFO, MONEY_PLACEMENT)

TEXTS = {
    OK: "OK",
    UNKNOWN_ID: "Тіркелмеген ККМ / ККМ не зарегистрирована",
    INVALID_TOKEN: "Токен жарамсыз / Неверный токен",
    PROTOCOL_ERROR: "Хаттама қатесі / Ошибка протокола",
    UNKNOWN_COMMAND: "Белгісіз команда / Неизвестная команда",
    UNSUPPORTED_COMMAND: "Команда қолдау көрсетілмейді / Команда не поддерживается",
    INVALID_REQUEST_NUMBER: "Сұрау нөмірі жарамсыз / Неверный номер запроса",
    INVALID_RETRY_REQUEST: "Қайталау сұрауы жарамсыз / Неверный повторный запрос",
    OPEN_SHIFT_TIMEOUT_EXPIRED: "Ауысым 24 сағаттан асты / Смена превысила 24 часа",
    INCORRECT_REQUEST_DATA: "Сұрау деректері қате / Некорректные данные запроса",
    NOT_ENOUGH_CASH: "Қолма-қол ақша жеткіліксіз / Недостаточно наличных",
    BLOCKED: "ККМ бұғатталған / ККМ заблокирована",
    SAME_TAXPAYER_AND_CUSTOMER: "Сатушы мен сатып алушы бірдей / Продавец и покупатель совпадают",
    ELEMENT_NOT_FOUND_BY_BARCODE: "Тауар ҰКТ-да табылмады / Товар не найден в НКТ",
    SERVICE_TEMPORARILY_UNAVAILABLE: "Қызмет уақытша қолжетімсіз / Сервис временно недоступен",
    UNKNOWN_ERROR: "Белгісіз қате / Неизвестная ошибка",
}


class Reject(Exception):
    """A request answered with a non-zero result code (stored as an exchange)."""

    def __init__(self, code, detail=""):
        Exception.__init__(self, code, detail)
        self.code = code
        self.detail = detail


def _command_of(payload):
    """Read field 1 (command, varint) from a protobuf payload without the schema.
    Returns None when the payload cannot be walked."""
    i, n = 0, len(payload)

    def varint(i):
        shift = v = 0
        while True:
            if i >= n or shift > 63:
                raise ValueError
            b = payload[i]
            i += 1
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v, i
            shift += 7
    try:
        while i < n:
            key, i = varint(i)
            field, wt = key >> 3, key & 7
            if wt == 0:
                v, i = varint(i)
                if field == 1:
                    return v
            elif wt == 1:
                i += 8
            elif wt == 2:
                ln, i = varint(i)
                i += ln
            elif wt == 5:
                i += 4
            else:
                return None
    except ValueError:
        return None
    return None


def load_catalogue(path=None):
    path = path or os.path.join(os.path.dirname(__file__), "catalogue.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Ofd:
    def __init__(self, store, base_url="http://127.0.0.1:8080", rotate_all=False, versions=(VERSION,),
                 strict_reqnum=False, shift_clock="device", tz_offset_s=5 * 3600, catalogue=None,
                 reject_z_mismatch=None):
        from tools.pb import load
        self.pb = load()
        self.store = store
        self.base_url = base_url
        self.rotate_all = rotate_all
        self.versions = tuple(versions)
        self.strict_reqnum = strict_reqnum
        if shift_clock not in ("device", "server"):
            raise ValueError("shift_clock is 'device' or 'server'")
        self.shift_clock = shift_clock
        self.tz_offset_s = tz_offset_s
        self.catalogue = catalogue or load_catalogue()
        # A real OFD accepts a Z that differs from its own and answers with
        # its own (the register re-synchronises); True answers 13 instead.
        # Kept in the store's settings table: None takes the stored value
        # (off in a new database), True/False sets and stores it.
        if reject_z_mismatch is None:
            self._reject_z = bool(store.setting("reject_z_mismatch", False))
        else:
            self.reject_z_mismatch = reject_z_mismatch
        self.stats = {"requests": 0, "duplicates": 0, "in_doubt": 0, "tickets": 0, "z_matches": 0, "z_differs": 0,
                      "z_rejected": 0, "x_matches": 0, "x_differs": 0}
        # kkm id -> REQNUM of the last request answered, stored or not (the
        # strict request-number rule follows it; unknown after a restart,
        # then the last stored exchange counts)
        self.last_reqnum = {}

    @property
    def reject_z_mismatch(self):
        return self._reject_z

    @reject_z_mismatch.setter
    def reject_z_mismatch(self, on):
        # written into the store's open transaction, if any: the caller makes
        # it durable (the admin API awaits OfdServer.durable()); stored
        # first, so a write that fails leaves the switch as it was
        self.store.set_setting("reject_z_mismatch", bool(on))
        self._reject_z = bool(on)

    # ------------------------------------------------------------ answers
    def _response(self, command, code, detail=""):
        r = self.pb.Response()
        r.command = command if command in KNOWN_COMMANDS else SYSTEM
        r.result.result_code = code
        text = TEXTS.get(code, "")
        if detail:
            text = (text + ": " + detail) if text else detail
        if text:
            r.result.result_text = text
        return r

    def error_answer(self, command, code, detail=""):
        """Answer payload for a result produced before processing (not stored)."""
        return self._response(command, code, detail).SerializeToString()

    def _new_token(self, old):
        while True:
            t = secrets.randbelow(0x7FFFFFFF) + 1
            if t != old:
                return t

    # ------------------------------------------------------------ entry point
    def handle(self, head, payload):
        """Returns (answer_token, answer_payload, info dict)."""
        self.stats["requests"] += 1
        info = {"stored": False, "duplicate": False, "result": None}
        out = self._handle(head, payload, info)
        # registered ids only: a stranger's id must leave nothing behind
        if info.get("known") and not info.get("reqnum_refused"):
            self.last_reqnum[head.kkm_id] = head.reqnum
        return out

    def _reqnum_follows(self, kkm_id, last, reqnum):
        """Strict mode: REQNUM is the previous answered one + 1 (65535 -> 0 or
        1), or the same number again (a resend of a request answered with an
        error that stored nothing)."""
        prev = self.last_reqnum.get(kkm_id, None if last is None else last["reqnum"])
        if prev is None:
            return True
        return reqnum in (prev, (prev + 1) & 0xFFFF) or (prev == 0xFFFF and reqnum == 1)

    def _handle(self, head, payload, info):
        cmd = _command_of(payload)
        if head.version not in self.versions:
            info["result"] = PROTOCOL_ERROR
            info["known"] = self.store.kkm(head.kkm_id) is not None
            return head.token, self.error_answer(cmd, PROTOCOL_ERROR, "version %d" % head.version), info
        kkm = self.store.kkm(head.kkm_id)
        if kkm is None:
            info["result"] = UNKNOWN_ID
            return head.token, self.error_answer(cmd, UNKNOWN_ID, "id %d" % head.kkm_id), info
        info["known"] = True
        if cmd is None:
            info["result"] = PROTOCOL_ERROR
            return head.token, self.error_answer(None, PROTOCOL_ERROR, "no command"), info
        if cmd not in KNOWN_COMMANDS:
            info["result"] = UNKNOWN_COMMAND
            return head.token, self.error_answer(None, UNKNOWN_COMMAND, "command %d" % cmd), info

        last = self.store.last_exchange(head.kkm_id)
        if last is not None and last["reqnum"] == head.reqnum:
            if last["token"] == head.token:
                if last["command"] == cmd:
                    # Resend after a lost answer: the stored answer, byte for byte.
                    self.stats["duplicates"] += 1
                    info.update(duplicate=True, result=last["result"])
                    if last["result"] == OK:
                        self._in_doubt(kkm["kkm_id"], last, payload)
                    return last["new_token"], bytes(last["answer"]), info
                info["result"] = INVALID_RETRY_REQUEST
                return head.token, self.error_answer(cmd, INVALID_RETRY_REQUEST), info
            info["result"] = INVALID_REQUEST_NUMBER
            return head.token, self.error_answer(cmd, INVALID_REQUEST_NUMBER), info
        if head.token != kkm["token"]:
            info["result"] = INVALID_TOKEN
            return head.token, self.error_answer(cmd, INVALID_TOKEN), info
        if self.strict_reqnum and not self._reqnum_follows(head.kkm_id, last, head.reqnum):
            info["result"] = INVALID_REQUEST_NUMBER
            info["reqnum_refused"] = True
            expected = (self.last_reqnum.get(head.kkm_id, last["reqnum"]) + 1) & 0xFFFF
            return head.token, self.error_answer(cmd, INVALID_REQUEST_NUMBER, "expected %d" % expected), info
        if kkm["blocked"]:
            info["result"] = BLOCKED
            r = self._response(cmd, BLOCKED, kkm["block_reason"])
            self._add_ads(r, kkm, self._reported_versions(payload), blocked=True,
                          block_text=kkm["block_reason"] or TEXTS[BLOCKED])
            return head.token, r.SerializeToString(), info

        req = self.pb.Request()
        try:
            req.ParseFromString(payload)
        except Exception as e:  # google.protobuf.message.DecodeError
            info["result"] = PROTOCOL_ERROR
            return head.token, self.error_answer(cmd, PROTOCOL_ERROR, str(e)[:200]), info
        if not req.IsInitialized():
            info["result"] = PROTOCOL_ERROR
            missing = ", ".join(sorted(req.FindInitializationErrors()))[:200]
            return head.token, self.error_answer(cmd, PROTOCOL_ERROR, "missing " + missing), info
        return self._process(head, payload, kkm, req, info)

    def _process(self, head, payload, kkm, req, info):
        st = self.store
        cmd = req.command
        # One savepoint per request inside the store's open transaction; the
        # caller commits (Store.commit_pending) before the answer is sent.
        st.savepoint()
        try:
            exid = st.next_exchange_id()
            try:
                if req.HasField("service") and req.service.HasField("offline_period"):
                    op = req.service.offline_period
                    st.add_offline_period(kkm["kkm_id"], exid, iso(dt_tuple(op.begin_time)),
                                          iso(dt_tuple(op.end_time)))
                handler = self._HANDLERS.get(cmd)
                if handler is None:
                    raise Reject(UNSUPPORTED_COMMAND, "command %d" % cmd)
                resp = handler(self, kkm, req, payload, exid)
                code = resp.result.result_code
                if code == OK and cmd in TEXT_COMMANDS:
                    s = req.service if req.HasField("service") else None
                    self._add_ads(resp, kkm, s.ticket_ad_infos if s is not None else None)
            except Reject as rj:
                st.rollback_savepoint()
                st.savepoint()
                resp = self._response(cmd, rj.code, rj.detail)
                code = rj.code
            new_token = kkm["token"]
            if code == OK and (self.rotate_all or cmd in ROTATING):
                new_token = self._new_token(kkm["token"])
            answer = resp.SerializeToString()
            st.add_exchange(exid, kkm["kkm_id"], head.token, head.reqnum, cmd, payload, answer, code, new_token)
            if new_token != kkm["token"]:
                st.set_token(kkm["kkm_id"], new_token)
            st.release()
        except BaseException:
            st.rollback_savepoint()
            raise
        info.update(stored=True, result=code)
        return new_token, answer, info

    # ------------------------------------------------------------ helpers
    def _ok(self, cmd):
        return self._response(cmd, OK)

    def _reported_versions(self, payload):
        """service.ticket_ad_infos of a request not processed otherwise (the
        server block); None when the payload does not decode."""
        req = self.pb.Request()
        try:
            req.ParseFromString(payload)
        except Exception:  # google.protobuf.message.DecodeError
            return None
        return req.service.ticket_ad_infos if req.HasField("service") else None

    def _add_ads(self, resp, kkm, reported, blocked=False, block_text=""):
        """Put the texts newer than the reported versions into
        resp.service.ticket_ads (a type not reported counts as version 0).

        blocked: a server-block answer (15). Its TICKET_AD_INFO text is the
        block reason, always, with the version the register reported for
        INFO (0 if none): never newer than the one it holds, so the
        register's version does not move (ofd.texts shows a blocked
        answer's INFO text in place of the held one without taking its
        version). The newer INFO messages stay back until the block ends: in
        the same answer the reason would replace them on the register before
        they were shown, and their version would be taken as read."""
        have = {}
        if reported is not None:
            for a in reported:
                have[int(a.type)] = int(a.version)
        added = False
        for row in self.store.ads(kkm["kkm_id"]):
            if blocked and row["type"] == TICKET_AD_INFO:
                continue
            if row["id"] > have.get(row["type"], 0):
                ad = resp.service.ticket_ads.add()
                ad.info.type = row["type"]
                ad.info.version = row["id"]
                ad.text = row["text"]
                added = True
        if blocked:
            ad = resp.service.ticket_ads.add()
            ad.info.type = TICKET_AD_INFO
            ad.info.version = have.get(TICKET_AD_INFO, 0)
            ad.text = block_text
            added = True
        return added

    def _fill_reg_info(self, ri, kkm):
        if kkm["point_of_payment_number"]:
            ri.kkm.point_of_payment_number = kkm["point_of_payment_number"]
        if kkm["terminal_number"]:
            ri.kkm.terminal_number = kkm["terminal_number"]
        ri.kkm.fns_kkm_id = kkm["rnm"]
        ri.kkm.serial_number = kkm["serial"]
        ri.kkm.kkm_id = str(kkm["kkm_id"])
        ri.pos.title = kkm["pos_title"] or kkm["title"]
        ri.pos.address = kkm["address"]
        if kkm["address_kz"]:
            ri.pos.address_kz = kkm["address_kz"]
        ri.org.title = kkm["title"]
        ri.org.address = kkm["address"]
        ri.org.inn = kkm["bin"]
        if kkm["okved"]:
            ri.org.okved = kkm["okved"]
        if kkm["address_kz"]:
            ri.org.address_kz = kkm["address_kz"]

    def _service_block(self, resp, kkm, req):
        s = req.service if req.HasField("service") else None
        if s is not None and s.get_reg_info:
            self._fill_reg_info(resp.service.reg_info, kkm)
        if s is not None and s.get_binded_taxation:
            bt = resp.service.binded_taxation
            bt.taxation_type = kkm["taxation_type"]
            tax = bt.taxes.add()
            tax.tax_type = 100
            tax.percent = 16000  # 2026 Tax Code standard VAT rate
        n, _ = self.store.current_shift(kkm["kkm_id"])
        resp.service.last_document_info.fr_shift_number = n

    def _in_doubt(self, kid, last, payload):
        """A resend of the last exchange: its answer did not reach the register in
        time (past the budget, or a power cut before the register journalled it),
        so the register printed and counted the document as autonomous, and the
        resend says so (offline_ticket_number; is_offline). The document stays as
        stored and the answer is the stored one (the same fiscal sign); the
        register's word is kept beside it (offline_marks), so the check page finds
        the autonomous number on the paper and the Z counts the document offline,
        as the register does (KZ-30.3, R-82; docs/protocol.md, "A lost answer")."""
        req = self.pb.Request()
        try:
            req.ParseFromString(payload)
        except Exception:  # google.protobuf.message.DecodeError: the stored answer stands
            return
        st = self.store
        exid = last["id"]
        if req.command == TICKET and req.ticket.HasField("offline_ticket_number"):
            number = req.ticket.offline_ticket_number
            doc = st.document_of("tickets_seen", kid, exid)
            if doc is None or doc["offline_number"] is not None or st.offline_number_taken(kid, number):
                return
        elif req.command == MONEY_PLACEMENT and req.money_placement.is_offline:
            number = None
            doc = st.document_of("money_placements_seen", kid, exid)
            if doc is None or doc["offline"]:
                return
        elif req.command == CLOSE_SHIFT and req.close_shift.is_offline:
            number = None
            doc = st.document_of("z_reports_seen", kid, exid)
            if doc is None or doc["offline"]:
                return
        else:
            return
        st.savepoint()
        st.add_offline_mark(kid, exid, number)
        if req.service.HasField("offline_period"):
            op = req.service.offline_period
            st.add_offline_period(kid, exid, iso(dt_tuple(op.begin_time)), iso(dt_tuple(op.end_time)))
        st.release()
        self.stats["in_doubt"] += 1

    def _shift_guard(self, kkm, doc_time, offline):
        """24-hour shift limit, counted from the first ticket of the shift;
        offline replay is exempt (PROTOCOL.md §12, code 11)."""
        n, _ = self.store.current_shift(kkm["kkm_id"])
        if offline:
            return n
        first = self.store.first_ticket_time(kkm["kkm_id"], n)
        if first is None:
            return n
        now = to_epoch(doc_time)
        if self.shift_clock == "server":
            now = max(now, to_epoch(now_local(self.tz_offset_s)))
        if now - to_epoch(from_iso(first)) > SHIFT_LIMIT_S:
            raise Reject(OPEN_SHIFT_TIMEOUT_EXPIRED, "shift %d opened %s" % (n, first))
        return n

    # ------------------------------------------------------------ commands
    def _system(self, kkm, req, payload, exid):
        resp = self._ok(SYSTEM)
        self._service_block(resp, kkm, req)
        return resp

    def _ticket(self, kkm, req, payload, exid):
        if not req.HasField("ticket"):
            raise Reject(PROTOCOL_ERROR, "ticket block missing")
        t = req.ticket
        st = self.store
        kid = kkm["kkm_id"]
        offline = t.HasField("offline_ticket_number")
        dt = dt_tuple(t.date_time)
        if not t.items:
            raise Reject(INCORRECT_REQUEST_DATA, "no items")
        names = {1: "commodity", 2: "storno_commodity", 3: "markup", 4: "storno_markup", 5: "discount",
                 6: "storno_discount"}
        for it in t.items:
            if not it.HasField(names[it.type]):
                raise Reject(INCORRECT_REQUEST_DATA, "item of type %d without its block" % it.type)
        f = zx.ticket_figures(t)
        expect = f["goods"] - f["discounts"] + f["markups"]
        if expect != f["total"]:
            raise Reject(INCORRECT_REQUEST_DATA, "total %d != items %d" % (f["total"], expect))
        if t.payments and f["paid"] != f["total"] and f["paid"] != f["total"] + f["change"]:
            raise Reject(INCORRECT_REQUEST_DATA, "payments %d do not cover total %d" % (f["paid"], f["total"]))
        if t.operation in (1, 3) and not t.HasField("parent_ticket"):
            raise Reject(INCORRECT_REQUEST_DATA, "return without parent_ticket")
        if t.HasField("extension_options") and t.extension_options.customer_iin_or_bin \
                and t.extension_options.customer_iin_or_bin == kkm["bin"]:
            raise Reject(SAME_TAXPAYER_AND_CUSTOMER)
        if offline:
            if not (req.HasField("service") and req.service.HasField("offline_period")):
                raise Reject(INCORRECT_REQUEST_DATA, "offline ticket without service.offline_period")
            if st.offline_number_taken(kid, t.offline_ticket_number):
                raise Reject(INCORRECT_REQUEST_DATA, "offline ticket %d already received" % t.offline_ticket_number)
            last = st.last_document_time(kid)
            if last is not None and iso(dt) < last:
                raise Reject(INCORRECT_REQUEST_DATA, "offline ticket %s older than %s: out of order" % (iso(dt), last))
        shift = self._shift_guard(kkm, dt, offline)
        cash = zx.cash_effect(t.operation, f["cash_part"])
        if cash < 0 and st.cash(kid) + cash < 0:
            raise Reject(NOT_ENOUGH_CASH, "cash %d, needed %d" % (st.cash(kid), -cash))
        seq = st.next_ticket_seq(kid)
        salt = 0
        sign = fiscal_sign(st.secret, kid, seq, payload)
        while st.sign_taken(kid, sign):
            salt += 1
            sign = fiscal_sign(st.secret, kid, seq, payload, salt)
        qr = qr_payload(self.base_url, sign, kkm["rnm"], f["total"], dt)
        st.add_ticket(kid, exid, seq, shift, sign, t.operation, f["total"], cash, iso(dt),
                      t.offline_ticket_number if offline else None, payload, qr)
        self.stats["tickets"] += 1
        resp = self._ok(TICKET)
        resp.ticket.ticket_number = sign
        resp.ticket.qr_code = qr.encode("utf-8")
        return resp

    def _close_shift(self, kkm, req, payload, exid):
        if not req.HasField("close_shift"):
            raise Reject(PROTOCOL_ERROR, "close_shift block missing")
        cs = req.close_shift
        st = self.store
        kid = kkm["kkm_id"]
        n, opened = st.current_shift(kid)
        close_dt = dt_tuple(cs.close_time)
        if cs.withdraw_money:
            cash = st.cash(kid)
            if cash > 0:
                st.add_money_placement(kid, exid, n, 1, cash, cs.is_offline, iso(close_dt))
        rep = zx.build(self.pb, st, kid, n, close_dt, close_dt)
        result = zcheck.check(cs.z_report if cs.HasField("z_report") else None, rep,
                              cs.fr_shift_number if cs.HasField("fr_shift_number") else None)
        if result["status"] != zcheck.ABSENT:
            self.stats["z_" + result["status"]] += 1
        if result["status"] == zcheck.DIFFERS:
            line = zcheck.summary(result)
            if self.reject_z_mismatch:
                self.stats["z_rejected"] += 1
                # Reject rolls the savepoint back: no Z, no withdrawal, the shift stays open
                log.warning("kkm %d shift %d: the register's Z differs from the OFD's in %d field(s), rejected"
                            " with 13: %s", kid, n, result["count"], line)
                raise Reject(INCORRECT_REQUEST_DATA, ("Z differs: " + line)[:400])
            log.warning("kkm %d shift %d: the register's Z differs from the OFD's in %d field(s): %s",
                        kid, n, result["count"], line)
        st.add_z(kid, exid, n, iso(dt_tuple(rep.open_shift_time)), iso(close_dt), cs.is_offline,
                 rep.SerializeToString(), result)
        resp = self._ok(CLOSE_SHIFT)
        resp.report.report = 0
        resp.report.zx_report.CopyFrom(rep)
        return resp

    def _last_z(self, kkm, report_dt):
        row = self.store.last_z(kkm["kkm_id"])
        rep = self.pb.ZXReport()
        if row is None:
            return zx.build_empty(self.pb, report_dt)
        rep.ParseFromString(row["report"])
        return rep

    def _report(self, kkm, req, payload, exid):
        if not req.HasField("report"):
            raise Reject(PROTOCOL_ERROR, "report block missing")
        rr = req.report
        resp = self._ok(REPORT)
        resp.report.report = rr.report
        dt = dt_tuple(rr.date_time)
        if rr.report == 1:
            n, _ = self.store.current_shift(kkm["kkm_id"])
            rep = zx.build(self.pb, self.store, kkm["kkm_id"], n, dt)
            self._x_check(kkm, exid, n, dt, rr.zx_report if rr.HasField("zx_report") else None, rep)
            resp.report.zx_report.CopyFrom(rep)
        else:
            resp.report.zx_report.CopyFrom(self._last_z(kkm, dt))
        return resp

    def _x_check(self, kkm, exid, n, dt, device, rep):
        """The register's X against the server's (zcheck.check_x): counted,
        a difference logged, the result kept as the register's last X check.
        Never a reason to refuse the report."""
        kid = kkm["kkm_id"]
        result = zcheck.check_x(device, rep)
        if result["status"] != zcheck.ABSENT:
            self.stats["x_" + result["status"]] += 1
        if result["status"] == zcheck.DIFFERS:
            log.warning("kkm %d shift %d: the register's X differs from the OFD's in %d field(s): %s",
                        kid, n, result["count"], zcheck.summary(result))
        self.store.set_x_check(kid, exid, n, iso(dt), result)

    def _info(self, kkm, req, payload, exid):
        resp = self._ok(INFO)
        n, opened = self.store.current_shift(kkm["kkm_id"])
        dt = now_local(self.tz_offset_s)
        if opened is not None:
            resp.report.report = 1
            resp.report.zx_report.CopyFrom(zx.build(self.pb, self.store, kkm["kkm_id"], n, dt))
        else:
            resp.report.report = 0
            resp.report.zx_report.CopyFrom(self._last_z(kkm, dt))
        self._service_block(resp, kkm, req)
        return resp

    def _money_placement(self, kkm, req, payload, exid):
        if not req.HasField("money_placement"):
            raise Reject(PROTOCOL_ERROR, "money_placement block missing")
        mp = req.money_placement
        st = self.store
        kid = kkm["kkm_id"]
        amount = tiyn(mp.sum)
        if amount <= 0:
            raise Reject(INCORRECT_REQUEST_DATA, "zero sum")
        dt = dt_tuple(mp.datetime)
        shift = self._shift_guard(kkm, dt, mp.is_offline)
        if mp.operation == 1 and amount > st.cash(kid):
            raise Reject(NOT_ENOUGH_CASH, "cash %d, withdrawal %d" % (st.cash(kid), amount))
        st.add_money_placement(kid, exid, shift, mp.operation, amount, mp.is_offline, iso(dt))
        return self._ok(MONEY_PLACEMENT)

    def _element(self, resp_n, e):
        el = resp_n.elements.add()
        el.type = 1 if e["type"] == "ITEM" else 0
        el.id = e["id"]
        el.title = e["title_ru"]
        el.title_kk = e["title_kk"]
        if e["type"] == "ITEM":
            el.parent_group_id = e["parent_group_id"]
            it = el.item
            if e["gtin"]:
                it.barcode = e["gtin"]
            if e["ntin"]:
                it.ntin = e["ntin"]
            it.article = str(e["id"])
            it.description = e["title_ru"]
            set_money(it.sell_price, e["price_tiyn"])
            tax = it.taxes.add()
            tax.taxation_type = 101
            tax.tax_type = 100
            tax.tax_percent = e["vat_percent_milli"]
            it.measure_count = 1000
            it.measure_title = e["measure_title"]
            it.measure_fractional = e["measure_fractional"]
            it.measure_unit_code = e["measure_unit_code"]
            it.is_markedeac = e["is_markedeac"]
            it.is_social = e["is_social"]

    def _nomenclature(self, kkm, req, payload, exid):
        # PROTOCOL.md section 10: a request names a barcode or the version
        # the register holds (0: none), one of the two
        nr = req.nomenclature if req.HasField("nomenclature") else None
        if nr is None or not (nr.HasField("barcode") or nr.HasField("current_version")):
            raise Reject(INCORRECT_REQUEST_DATA, "nomenclature: barcode or current_version required")
        cat = self.catalogue
        resp = self._ok(NOMENCLATURE)
        n = resp.nomenclature
        n.version = cat["version"]
        set_dt(n.created_time, from_iso(cat["created"]))
        if nr.HasField("barcode"):
            code = nr.barcode.strip()
            for e in cat["elements"]:
                if e["type"] == "ITEM" and code and code in (e["gtin"], e["ntin"]):
                    self._element(n, e)
                    n.result = 0
                    return resp
            n.result = 3
            resp.result.result_code = ELEMENT_NOT_FOUND_BY_BARCODE
            resp.result.result_text = TEXTS[ELEMENT_NOT_FOUND_BY_BARCODE] + ": " + code
            return resp
        have = nr.current_version
        if have == cat["version"]:
            n.result = 1
        elif have > cat["version"]:
            n.result = 2
        else:
            n.result = 0
            for e in cat["elements"]:
                self._element(n, e)
        return resp

    def _cancel(self, kkm, req, payload, exid):
        raise Reject(UNSUPPORTED_COMMAND, "CANCEL_TICKET is deprecated since 2.0.3")

    _HANDLERS = {
        SYSTEM: _system, TICKET: _ticket, CLOSE_SHIFT: _close_shift, REPORT: _report,
        NOMENCLATURE: _nomenclature, INFO: _info, MONEY_PLACEMENT: _money_placement, CANCEL_TICKET: _cancel,
    }
