"""SQLite storage of the simulated OFD.

Fiscal tables (exchanges, tickets, money placements, Z reports, offline
periods) are append-only: triggers abort every UPDATE and DELETE on them,
and the code has no delete path at all (5-year retention, R-79, R-83). The
register table keeps the mutable state a real OFD keeps per KKM: the current
valid token and the blocked flag. Also mutable, and no fiscal data: the
simulator's own settings (``settings``) and each register's last X check
(``x_checks``, one row per register).
"""

import json
import os
import secrets
import sqlite3
import time

RETENTION_YEARS = 5

_FISCAL_TABLES = ("exchanges", "tickets", "money_placements", "z_reports", "offline_periods", "ads",
                  "offline_marks")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kkms (
  kkm_id INTEGER PRIMARY KEY,
  rnm TEXT NOT NULL UNIQUE,
  serial TEXT NOT NULL,
  title TEXT NOT NULL,
  bin TEXT NOT NULL,
  address TEXT NOT NULL,
  address_kz TEXT NOT NULL DEFAULT '',
  pos_title TEXT NOT NULL DEFAULT '',
  point_of_payment_number TEXT NOT NULL DEFAULT '',
  terminal_number TEXT NOT NULL DEFAULT '',
  okved TEXT NOT NULL DEFAULT '',
  taxation_type INTEGER NOT NULL DEFAULT 101,
  token INTEGER NOT NULL,
  blocked INTEGER NOT NULL DEFAULT 0,
  block_reason TEXT NOT NULL DEFAULT '',
  registered_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exchanges (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER NOT NULL,
  token INTEGER NOT NULL,
  reqnum INTEGER NOT NULL,
  command INTEGER NOT NULL,
  request BLOB NOT NULL,
  answer BLOB NOT NULL,
  result INTEGER NOT NULL,
  new_token INTEGER NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exchanges_kkm ON exchanges(kkm_id, id);
CREATE TABLE IF NOT EXISTS tickets (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER NOT NULL,
  exchange_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  shift_number INTEGER NOT NULL,
  fiscal_sign TEXT NOT NULL,
  operation INTEGER NOT NULL,
  total INTEGER NOT NULL,
  cash INTEGER NOT NULL,
  date_time TEXT NOT NULL,
  offline_number INTEGER,
  request BLOB NOT NULL,
  qr TEXT NOT NULL,
  received_at TEXT NOT NULL,
  retain_until TEXT NOT NULL,
  UNIQUE (kkm_id, seq),
  UNIQUE (kkm_id, fiscal_sign)
);
CREATE INDEX IF NOT EXISTS tickets_shift ON tickets(kkm_id, shift_number);
CREATE TABLE IF NOT EXISTS money_placements (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER NOT NULL,
  exchange_id INTEGER NOT NULL,
  shift_number INTEGER NOT NULL,
  operation INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  offline INTEGER NOT NULL,
  date_time TEXT NOT NULL,
  received_at TEXT NOT NULL,
  retain_until TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mp_shift ON money_placements(kkm_id, shift_number);
CREATE TABLE IF NOT EXISTS z_reports (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER NOT NULL,
  exchange_id INTEGER NOT NULL,
  shift_number INTEGER NOT NULL,
  opened_at TEXT NOT NULL,
  closed_at TEXT NOT NULL,
  offline INTEGER NOT NULL,
  report BLOB NOT NULL,
  received_at TEXT NOT NULL,
  retain_until TEXT NOT NULL,
  UNIQUE (kkm_id, shift_number)
);
CREATE TABLE IF NOT EXISTS offline_periods (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER NOT NULL,
  exchange_id INTEGER NOT NULL,
  begin_time TEXT NOT NULL,
  end_time TEXT NOT NULL,
  received_at TEXT NOT NULL
);
-- the register's word on a resend of a document whose answer it did not
-- get in time (Ofd._in_doubt): it printed the document as autonomous, with
-- this number (tickets; NULL for placements and Z). Kept apart from the
-- document, which is never edited; the *_seen views read both.
CREATE TABLE IF NOT EXISTS offline_marks (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER NOT NULL,
  exchange_id INTEGER NOT NULL,
  offline_number INTEGER,
  received_at TEXT NOT NULL,
  retain_until TEXT NOT NULL,
  UNIQUE (kkm_id, exchange_id)
);
CREATE TABLE IF NOT EXISTS ads (
  id INTEGER PRIMARY KEY,
  kkm_id INTEGER,
  type INTEGER NOT NULL,
  text TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS x_checks (
  kkm_id INTEGER PRIMARY KEY,
  exchange_id INTEGER NOT NULL,
  shift_number INTEGER NOT NULL,
  report_time TEXT NOT NULL,
  checked_at TEXT NOT NULL,
  status TEXT NOT NULL,
  result TEXT NOT NULL
);
"""


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _retain_until():
    g = time.gmtime()
    return "%04d-%02d-%02d" % (g.tm_year + RETENTION_YEARS, g.tm_mon, min(g.tm_mday, 28))


class Store:
    def __init__(self, path):
        if path != ":memory:":
            d = os.path.dirname(os.path.abspath(path))
            os.makedirs(d, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(_SCHEMA)
        for t in _FISCAL_TABLES:
            for op in ("UPDATE", "DELETE"):
                self.db.execute(
                    "CREATE TRIGGER IF NOT EXISTS no_%s_%s BEFORE %s ON %s BEGIN "
                    "SELECT RAISE(ABORT, 'fiscal data are kept for %d years: no %s'); END"
                    % (op.lower(), t, op, t, RETENTION_YEARS, op.lower()))
        self._migrate()
        self.db.executescript(self._VIEWS)
        if self.meta("secret") is None:
            self.set_meta("secret", secrets.token_hex(32))

    # Columns added after the first release, per table: (name, SQL type).
    # A database made by an older simulator gets them on open (ALTER TABLE
    # ADD COLUMN writes no row, so the append-only triggers are not
    # involved); its old rows read NULL there ("not checked").
    _ADDED_COLUMNS = {
        "z_reports": (("zcheck_status", "TEXT"),   # matches / differs / absent (zcheck.py)
                      ("zcheck", "TEXT")),         # JSON: {"status", "count", "differences"}
    }

    # The documents as the OFD counts them: with the register's offline word
    # on a resend (offline_marks) taken in. Made after _migrate (z_reports'
    # added columns).
    _VIEWS = """
CREATE VIEW IF NOT EXISTS tickets_seen AS SELECT t.id, t.kkm_id, t.exchange_id, t.seq, t.shift_number,
  t.fiscal_sign, t.operation, t.total, t.cash, t.date_time, COALESCE(t.offline_number, m.offline_number)
  AS offline_number, t.request, t.qr, t.received_at, t.retain_until
  FROM tickets t LEFT JOIN offline_marks m ON m.kkm_id = t.kkm_id AND m.exchange_id = t.exchange_id;
CREATE VIEW IF NOT EXISTS money_placements_seen AS SELECT p.id, p.kkm_id, p.exchange_id, p.shift_number,
  p.operation, p.amount, MAX(p.offline, m.id IS NOT NULL) AS offline, p.date_time, p.received_at,
  p.retain_until
  FROM money_placements p LEFT JOIN offline_marks m ON m.kkm_id = p.kkm_id AND m.exchange_id = p.exchange_id;
CREATE VIEW IF NOT EXISTS z_reports_seen AS SELECT z.id, z.kkm_id, z.exchange_id, z.shift_number,
  z.opened_at, z.closed_at, MAX(z.offline, m.id IS NOT NULL) AS offline, z.report, z.received_at,
  z.retain_until, z.zcheck_status, z.zcheck
  FROM z_reports z LEFT JOIN offline_marks m ON m.kkm_id = z.kkm_id AND m.exchange_id = z.exchange_id;
"""

    def _columns(self, table):
        return {r[1] for r in self.db.execute("PRAGMA table_info(%s)" % table)}

    def _migrate(self):
        for table, cols in self._ADDED_COLUMNS.items():
            for name, typ in cols:
                if name in self._columns(table):
                    continue
                try:
                    self.db.execute("ALTER TABLE %s ADD COLUMN %s %s" % (table, name, typ))
                except sqlite3.OperationalError:
                    # another process opening the same file added it first
                    if name not in self._columns(table):
                        raise

    def close(self):
        self.commit_pending()
        self.db.close()

    # ------------------------------------------------------------ meta
    def meta(self, key):
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key, value):
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------ settings
    # The simulator's settings that can change at run time (admin API), as
    # JSON values; a database made before the table existed gets it on open
    # (CREATE TABLE IF NOT EXISTS) and reads the defaults.
    def setting(self, key, default=None):
        row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key, value):
        self.db.execute("INSERT OR REPLACE INTO settings(key, value, changed_at) VALUES (?, ?, ?)",
                        (key, json.dumps(value), _now()))

    def settings(self):
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT key, value FROM settings ORDER BY key")}

    @property
    def secret(self):
        return bytes.fromhex(self.meta("secret"))

    # ------------------------------------------------------------ transactions
    # Group commit: each request runs in a savepoint of one open transaction;
    # the server commits (one fsync) once per event-loop turn and sends the
    # answers of that turn only after the commit, so no answer ever leaves
    # before its document is durable.
    in_tx = False

    def savepoint(self):
        if not self.in_tx:
            self.db.execute("BEGIN IMMEDIATE")
            self.in_tx = True
        self.db.execute("SAVEPOINT doc")

    def release(self):
        self.db.execute("RELEASE doc")

    def rollback_savepoint(self):
        self.db.execute("ROLLBACK TO doc")
        self.db.execute("RELEASE doc")

    def commit_pending(self):
        """Commit the open transaction, if any (durable on return)."""
        if self.in_tx:
            self.in_tx = False
            self.db.execute("COMMIT")

    # ------------------------------------------------------------ registers
    _KKM_FIELDS = ("kkm_id", "rnm", "serial", "title", "bin", "address", "address_kz", "pos_title",
                   "point_of_payment_number", "terminal_number", "okved", "taxation_type", "token")

    def register(self, kkm_id, rnm, serial, title, bin, address, token, **extra):
        """Register a simulated KKM (portal registration). Re-registering an
        existing id with the same RNM updates its details and token."""
        if not (0 < int(kkm_id) <= 0xFFFFFFFF):
            raise ValueError("kkm id must fit the 4-byte header field")
        if not (0 <= int(token) <= 0xFFFFFFFF):
            raise ValueError("token must fit the 4-byte header field")
        row = dict(kkm_id=int(kkm_id), rnm=str(rnm), serial=str(serial), title=str(title), bin=str(bin),
                   address=str(address), token=int(token))
        for k in self._KKM_FIELDS:
            if k in extra and extra[k] is not None:
                row[k] = extra[k]
        old = self.kkm(kkm_id)
        if old is not None and old["rnm"] != row["rnm"]:
            raise ValueError("kkm %d is registered with another RNM" % kkm_id)
        if old is None:
            row["registered_at"] = _now()
            cols = ",".join(row)
            self.db.execute("INSERT INTO kkms(%s) VALUES (%s)" % (cols, ",".join("?" * len(row))),
                            tuple(row.values()))
        else:
            sets = ",".join("%s=?" % k for k in row if k != "kkm_id")
            self.db.execute("UPDATE kkms SET %s WHERE kkm_id=?" % sets,
                            tuple(v for k, v in row.items() if k != "kkm_id") + (row["kkm_id"],))
        return self.kkm(kkm_id)

    def kkm(self, kkm_id):
        return self.db.execute("SELECT * FROM kkms WHERE kkm_id=?", (kkm_id,)).fetchone()

    def kkm_by_rnm(self, rnm):
        return self.db.execute("SELECT * FROM kkms WHERE rnm=?", (rnm,)).fetchone()

    def kkms(self):
        return self.db.execute("SELECT * FROM kkms ORDER BY kkm_id").fetchall()

    def set_token(self, kkm_id, token):
        self.db.execute("UPDATE kkms SET token=? WHERE kkm_id=?", (int(token), kkm_id))

    def set_blocked(self, kkm_id, blocked, reason=""):
        self.db.execute("UPDATE kkms SET blocked=?, block_reason=? WHERE kkm_id=?",
                        (1 if blocked else 0, reason, kkm_id))

    # ------------------------------------------------------------ exchanges
    def last_exchange(self, kkm_id):
        return self.db.execute("SELECT * FROM exchanges WHERE kkm_id=? ORDER BY id DESC LIMIT 1",
                               (kkm_id,)).fetchone()

    def next_exchange_id(self):
        """Id the next exchange will get (call inside the write transaction;
        documents refer to it and the exchange row is written last, with its
        answer, so no row is ever edited)."""
        return self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM exchanges").fetchone()[0]

    def add_exchange(self, exchange_id, kkm_id, token, reqnum, command, request, answer, result, new_token):
        self.db.execute(
            "INSERT INTO exchanges(id, kkm_id, token, reqnum, command, request, answer, result, new_token,"
            " received_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (exchange_id, kkm_id, token, reqnum, command, request, answer, result, new_token, _now()))

    def count(self, table, kkm_id=None):
        if table not in _FISCAL_TABLES + ("kkms",):
            raise ValueError(table)
        if kkm_id is None:
            return self.db.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM %s WHERE kkm_id=?" % table, (kkm_id,)).fetchone()[0]

    # ------------------------------------------------------------ shifts
    def current_shift(self, kkm_id):
        """(shift_number, opened_at or None): the shift after the last Z."""
        row = self.db.execute("SELECT MAX(shift_number) FROM z_reports WHERE kkm_id=?", (kkm_id,)).fetchone()
        n = (row[0] or 0) + 1
        first = self.db.execute(
            "SELECT MIN(date_time) FROM (SELECT date_time FROM tickets WHERE kkm_id=? AND shift_number=?"
            " UNION ALL SELECT date_time FROM money_placements WHERE kkm_id=? AND shift_number=?)",
            (kkm_id, n, kkm_id, n)).fetchone()[0]
        return n, first

    def first_ticket_time(self, kkm_id, shift_number):
        return self.db.execute("SELECT MIN(date_time) FROM tickets WHERE kkm_id=? AND shift_number=?",
                               (kkm_id, shift_number)).fetchone()[0]

    def last_document_time(self, kkm_id):
        return self.db.execute(
            "SELECT MAX(d) FROM (SELECT MAX(date_time) d FROM tickets WHERE kkm_id=?"
            " UNION ALL SELECT MAX(date_time) FROM money_placements WHERE kkm_id=?"
            " UNION ALL SELECT MAX(closed_at) FROM z_reports WHERE kkm_id=?)",
            (kkm_id, kkm_id, kkm_id)).fetchone()[0]

    def last_z(self, kkm_id):
        return self.db.execute("SELECT * FROM z_reports_seen WHERE kkm_id=? ORDER BY shift_number DESC LIMIT 1",
                               (kkm_id,)).fetchone()

    def z_reports(self, kkm_id):
        return self.db.execute("SELECT * FROM z_reports_seen WHERE kkm_id=? ORDER BY shift_number",
                               (kkm_id,)).fetchall()

    def add_z(self, kkm_id, exchange_id, shift_number, opened_at, closed_at, offline, report, zcheck=None):
        """zcheck: the comparison with the register's own Z (zcheck.check), stored with the shift."""
        self.db.execute(
            "INSERT INTO z_reports(kkm_id, exchange_id, shift_number, opened_at, closed_at, offline, report,"
            " received_at, retain_until, zcheck_status, zcheck) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (kkm_id, exchange_id, shift_number, opened_at, closed_at, 1 if offline else 0, report,
             _now(), _retain_until(), None if zcheck is None else zcheck["status"],
             None if zcheck is None else json.dumps(zcheck, ensure_ascii=False, sort_keys=True)))

    @staticmethod
    def zcheck_of(row):
        """The stored comparison of a z_reports row as a dict; None for a Z
        stored before the comparison existed (or by an older simulator)."""
        if row["zcheck"] is None:
            return None
        return json.loads(row["zcheck"])

    def z_checks(self, kkm_id):
        """Every Z of a register with its comparison, oldest first (JSON-ready dicts)."""
        out = []
        for z in self.z_reports(kkm_id):
            c = self.zcheck_of(z)
            out.append({"shift_number": z["shift_number"], "opened_at": z["opened_at"], "closed_at": z["closed_at"],
                        "offline": bool(z["offline"]), "exchange_id": z["exchange_id"],
                        "zcheck": "not checked" if c is None else c["status"],
                        "count": 0 if c is None else c["count"],
                        "differences": [] if c is None else c["differences"]})
        return out

    # ------------------------------------------------------------ X checks
    def set_x_check(self, kkm_id, exchange_id, shift_number, report_time, result):
        """Keep the last X check of a register (zcheck.check_x), replacing the previous one."""
        self.db.execute(
            "INSERT OR REPLACE INTO x_checks(kkm_id, exchange_id, shift_number, report_time, checked_at, status,"
            " result) VALUES (?,?,?,?,?,?,?)",
            (kkm_id, exchange_id, shift_number, report_time, _now(), result["status"],
             json.dumps(result, ensure_ascii=False, sort_keys=True)))

    def x_check(self, kkm_id):
        """The register's last X check as a JSON-ready dict, or None (no X yet)."""
        row = self.db.execute("SELECT * FROM x_checks WHERE kkm_id=?", (kkm_id,)).fetchone()
        if row is None:
            return None
        r = json.loads(row["result"])
        return {"shift_number": row["shift_number"], "report_time": row["report_time"],
                "checked_at": row["checked_at"], "exchange_id": row["exchange_id"], "xcheck": r["status"],
                "count": r["count"], "differences": r["differences"]}

    # ------------------------------------------------------------ tickets
    def next_ticket_seq(self, kkm_id):
        row = self.db.execute("SELECT MAX(seq) FROM tickets WHERE kkm_id=?", (kkm_id,)).fetchone()
        return (row[0] or 0) + 1

    def sign_taken(self, kkm_id, sign):
        return self.db.execute("SELECT 1 FROM tickets WHERE kkm_id=? AND fiscal_sign=?",
                               (kkm_id, sign)).fetchone() is not None

    def add_ticket(self, kkm_id, exchange_id, seq, shift_number, sign, operation, total, cash, date_time,
                   offline_number, request, qr):
        self.db.execute(
            "INSERT INTO tickets(kkm_id, exchange_id, seq, shift_number, fiscal_sign, operation, total, cash,"
            " date_time, offline_number, request, qr, received_at, retain_until)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (kkm_id, exchange_id, seq, shift_number, sign, operation, total, cash, date_time, offline_number,
             request, qr, _now(), _retain_until()))

    def _of_shifts(self, table, order, kkm_id, shift_number, upto_shift):
        # rows of a register, of one shift or up to a shift (table and order are ours, never input)
        q, a = "SELECT * FROM %s WHERE kkm_id=?" % table, [kkm_id]
        if shift_number is not None:
            q += " AND shift_number=?"
            a.append(shift_number)
        if upto_shift is not None:
            q += " AND shift_number<=?"
            a.append(upto_shift)
        return self.db.execute(q + " ORDER BY " + order, a).fetchall()

    def tickets(self, kkm_id, shift_number=None, upto_shift=None):
        return self._of_shifts("tickets_seen", "seq", kkm_id, shift_number, upto_shift)

    def offline_number_taken(self, kkm_id, number):
        return self.db.execute("SELECT 1 FROM tickets_seen WHERE kkm_id=? AND offline_number=?",
                               (kkm_id, number)).fetchone() is not None

    def document_of(self, view, kkm_id, exchange_id):
        """The ticket, money placement or Z (view: tickets_seen, money_placements_seen,
        z_reports_seen) an exchange stored, or None."""
        if view not in ("tickets_seen", "money_placements_seen", "z_reports_seen"):
            raise ValueError(view)
        return self.db.execute("SELECT * FROM %s WHERE kkm_id=? AND exchange_id=?" % view,
                               (kkm_id, exchange_id)).fetchone()

    def add_offline_mark(self, kkm_id, exchange_id, offline_number):
        self.db.execute("INSERT INTO offline_marks(kkm_id, exchange_id, offline_number, received_at, retain_until)"
                        " VALUES (?,?,?,?,?)", (kkm_id, exchange_id, offline_number, _now(), _retain_until()))

    def find_ticket(self, rnm, code):
        """A ticket by RNM and fiscal sign, or by its autonomous (offline) code: the
        offline_ticket_number the register sent, printed and put in the QR code (i=)."""
        k = self.kkm_by_rnm(rnm)
        if k is None:
            return None, None
        row = self.db.execute("SELECT * FROM tickets_seen WHERE kkm_id=? AND fiscal_sign=?",
                              (k["kkm_id"], code)).fetchone()
        if row is None and code.isascii() and code.isdigit() and len(code) < 11:
            row = self.db.execute("SELECT * FROM tickets_seen WHERE kkm_id=? AND offline_number=? ORDER BY seq"
                                  " LIMIT 1", (k["kkm_id"], int(code))).fetchone()
        return k, row

    # ------------------------------------------------------------ money
    def add_money_placement(self, kkm_id, exchange_id, shift_number, operation, amount, offline, date_time):
        self.db.execute(
            "INSERT INTO money_placements(kkm_id, exchange_id, shift_number, operation, amount, offline,"
            " date_time, received_at, retain_until) VALUES (?,?,?,?,?,?,?,?,?)",
            (kkm_id, exchange_id, shift_number, operation, amount, 1 if offline else 0, date_time, _now(),
             _retain_until()))

    def money_placements(self, kkm_id, shift_number=None, upto_shift=None):
        return self._of_shifts("money_placements_seen", "id", kkm_id, shift_number, upto_shift)

    def cash(self, kkm_id):
        """Cash in the drawer: cash parts of tickets plus deposits minus withdrawals."""
        t = self.db.execute("SELECT COALESCE(SUM(cash), 0) FROM tickets WHERE kkm_id=?", (kkm_id,)).fetchone()[0]
        m = self.db.execute(
            "SELECT COALESCE(SUM(CASE operation WHEN 0 THEN amount ELSE -amount END), 0)"
            " FROM money_placements WHERE kkm_id=?", (kkm_id,)).fetchone()[0]
        return t + m

    # ------------------------------------------------------------ offline periods
    def add_offline_period(self, kkm_id, exchange_id, begin, end):
        self.db.execute("INSERT INTO offline_periods(kkm_id, exchange_id, begin_time, end_time, received_at)"
                        " VALUES (?,?,?,?,?)", (kkm_id, exchange_id, begin, end, _now()))

    def offline_periods(self, kkm_id):
        return self.db.execute("SELECT * FROM offline_periods WHERE kkm_id=? ORDER BY id", (kkm_id,)).fetchall()

    # ------------------------------------------------------------ messages / ads
    def add_ad(self, kkm_id, ad_type, text):
        """A text message (TicketAd) for one register (kkm_id) or all (None).
        Its id is its version: newer messages have higher versions."""
        cur = self.db.execute("INSERT INTO ads(kkm_id, type, text, created_at) VALUES (?,?,?,?)",
                              (kkm_id, int(ad_type), text, _now()))
        return cur.lastrowid

    def ads(self, kkm_id):
        """Newest message per type for this register (own beats global by version)."""
        rows = self.db.execute("SELECT * FROM ads WHERE kkm_id IS NULL OR kkm_id=? ORDER BY id",
                               (kkm_id,)).fetchall()
        newest = {}
        for r in rows:
            newest[r["type"]] = r
        return [newest[t] for t in sorted(newest)]


def load_config(store, path):
    """Register every KKM listed in a JSON file: {"registers": [{...}, ...]}."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    regs = data["registers"] if isinstance(data, dict) else data
    out = []
    for r in regs:
        r = dict(r)
        out.append(store.register(r.pop("kkm_id"), r.pop("rnm"), r.pop("serial"), r.pop("title"),
                                  r.pop("bin"), r.pop("address"), r.pop("token"), **r))
    return out
