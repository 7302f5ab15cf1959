"""The OFD's database against the register's journal: every document the
journal holds is stored by the OFD once, in journal order, with the same
kind, shift, number, total and signs, and the OFD holds nothing else.

    journal = journal_documents(journal_reader.read_journal(...))
    problems = compare(journal, ofd_documents(sqlite3.connect(db)))

A document is a tuple (kind, shift, number, total, fiscal sign, autonomous
sign): kind is the operation ("sell", "sell return", "deposit", ...,
"z report"); fields a side does not keep are None on both sides (a
placement's signs, a Z's number and total). The OFD's documents come in the
order it accepted them (its exchange id), as its check page and Z see them
(a resend's word that the register printed it autonomously included); a
ticket's and a placement's document number is read from the request it stored.
"""

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from tools.journal_reader import OPS, PLACEMENTS  # noqa: E402

FIELDS = ("kind", "shift", "number", "total", "fiscal sign", "autonomous sign")


def journal_documents(report):
    # the documents of journal_reader.read_journal's report as tuples
    out = []
    for d in report["documents"]:
        if d["kind"] == "z":
            out.append((d.get("operation"), d["shift"], None, None, None, None))
        elif d["kind"] == "placement":
            out.append((d.get("operation"), d["shift"], d["number"], d.get("total"), None, None))
        else:
            out.append((d.get("operation"), d["shift"], d["number"], d.get("total"), d["fiscal_sign"],
                        d["autonomous_sign"]))
    return out


def _requests(db):
    # exchange id -> the Request the OFD stored with it, decoded
    from tools.ofdsim.pbutil import pb

    Request = pb().Request
    out = {}
    for exid, raw in db.execute("SELECT id, request FROM exchanges"):
        req = Request()
        req.ParseFromString(raw)
        out[exid] = req
    return out


def ofd_documents(db):
    # the OFD's documents (sqlite3 connection to its database) as tuples, in
    # the order it accepted them
    reqs = _requests(db)
    rows = []
    for exid, shift, sign, op, total, offline in db.execute(
            "SELECT exchange_id, shift_number, fiscal_sign, operation, total, offline_number FROM tickets_seen"):
        number = reqs[exid].ticket.shift_document_number if exid in reqs else None
        rows.append((exid, (OPS.get(op, op), shift, number, total, sign, None if offline is None else str(offline))))
    for exid, shift, op, amount in db.execute(
            "SELECT exchange_id, shift_number, operation, amount FROM money_placements"):
        number = reqs[exid].money_placement.printed_document_number if exid in reqs else None
        rows.append((exid, (PLACEMENTS.get(op, op), shift, number, amount, None, None)))
    for exid, shift in db.execute("SELECT exchange_id, shift_number FROM z_reports"):
        rows.append((exid, ("z report", shift, None, None, None, None)))
    return [d for _, d in sorted(rows)]


def project(docs, fields):
    # the documents with only these fields (names of FIELDS)
    idx = [FIELDS.index(f) for f in fields]
    return [tuple(d[i] for i in idx) for d in docs]


def compare(journal, ofd):
    """-> the differences as texts; [] when the OFD holds exactly the journal's documents."""
    if journal == ofd:
        return []
    k = next((i for i, (a, b) in enumerate(zip(journal, ofd)) if a != b), min(len(journal), len(ofd)))
    return ["the OFD's documents differ from the journal's at %d: journal %s, OFD %s (%d vs %d documents)" % (
        k, journal[k:k + 2], ofd[k:k + 2], len(journal), len(ofd))]
