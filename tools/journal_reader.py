"""Fiscal journal reader: verifies a dump of the accumulator's two partitions
and exports its documents, Z summaries and OFD queue (docs/journal.md).

    python tools/journal_reader.py DUMP --key KEYFILE [--json FILE|-] [--csv DIR]
    python tools/journal_reader.py LOG.img FM.img --key KEYFILE ...

DUMP is a folder holding ``fjournal.bin`` and ``fmemory.bin`` (``make
journal-backup``, esptool ``read-flash`` of the two partitions) or the host
board's ``journal.img`` and ``fiscal_memory.img`` (``make sim``, regshell).
KEYFILE holds the device key (raw bytes, or hex text).

Checks, all on a copy in memory (the dump files are never written):
  - the register's own self-test (KZ-2.3): the Z chain, the last closed
    shift, the open shift and every record still kept;
  - every record of every shift still in the log against the chain value of
    its Z in fiscal memory (older shifts the device does not re-read);
  - the CRC of every record: records in the log's range that are not intact.
Prints a summary; exit status 0 when everything verifies, 1 when something
does not (what and where is printed and exported), 2 for bad arguments.
"""

import argparse
import csv
import json
import os
import struct
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from boards.sim.nor_flash import NorFlash  # noqa: E402
from journal import ACK, Accumulator, JournalError  # noqa: E402
from kkm import counters, doccodec  # noqa: E402
from kkm import document as D  # noqa: E402
from kkm import records as R  # noqa: E402

BLOCK = 4096
# file names of a dump folder: (log, fiscal memory)
DUMPS = (("fjournal.bin", "fmemory.bin"), ("journal.img", "fiscal_memory.img"))
OPS = {D.OP_BUY: "buy", D.OP_BUY_RETURN: "buy return", D.OP_SELL: "sell", D.OP_SELL_RETURN: "sell return"}
PAYS = {D.PAY_CASH: "cash", D.PAY_CARD: "card", D.PAY_MOBILE: "mobile"}
PLACEMENTS = {D.DEPOSIT: "deposit", D.WITHDRAWAL: "withdrawal"}


class DumpError(Exception):
    pass


def dump_files(paths):
    """(log path, fiscal memory path) from a folder or from two files."""
    if len(paths) == 2:
        return paths[0], paths[1]
    if len(paths) == 1 and os.path.isdir(paths[0]):
        for log, fm in DUMPS:
            lp, fp = os.path.join(paths[0], log), os.path.join(paths[0], fm)
            if os.path.exists(lp) and os.path.exists(fp):
                return lp, fp
        raise DumpError("%s holds neither %s nor %s" % (paths[0], " + ".join(DUMPS[0]), " + ".join(DUMPS[1])))
    raise DumpError("give a dump folder, or the log and the fiscal memory files")


def read_image(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data or len(data) % BLOCK:
        raise DumpError("%s: %d bytes is not a whole number of 4 KiB sectors" % (path, len(data)))
    return data


def read_key(path):
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.strip()
    try:
        if len(text) in (32, 64, 128) and text == text.lower():
            return bytes.fromhex(text.decode("ascii"))
    except (UnicodeError, ValueError):
        pass
    if not raw:
        raise DumpError("%s: empty key file" % path)
    return raw


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _doc(seq, rtype, ts, payload):
    shift, number, body = R.split_doc(payload)
    d = {"seq": seq, "kind": R.KIND[rtype], "shift": shift, "number": number, "ts": ts, "time": iso(ts),
         "fiscal_sign": None, "channel": None, "autonomous_sign": None, "acknowledged": True}
    try:
        if rtype == R.R_RECEIPT:
            rc = doccodec.decode_receipt(body)
            d.update(operation=OPS[rc.op], total=rc.total(), cashier=rc.cashier_code, operator=rc.operator_name,
                     lines=len(rc.lines), payments=[[PAYS.get(p.kind, p.kind), p.amount] for p in rc.payments])
        elif rtype == R.R_PLACEMENT:
            p = doccodec.decode_placement(body)
            d.update(operation=PLACEMENTS[p.kind], total=p.amount, cashier=p.cashier_code, operator=p.operator_name)
        else:
            opened, stamped = R.split_z(body)
            code, name, _off, _counters = doccodec.decode_z(stamped)
            d.update(operation="z report", cashier=code, operator=name, opened=iso(opened))
    except (D.DocumentError, ValueError, KeyError) as e:
        d["error"] = "undecodable %s: %r" % (d["kind"], e.args)
    return d


def _z(acc, n):
    ts, summary, chain = acc.read_z(n)
    z = {"z": n, "ts": ts, "time": iso(ts), "chain": chain.hex()}
    try:
        s = counters.decode_z_summary(summary)
    except (ValueError, IndexError) as e:
        z["error"] = "undecodable summary: %r" % (e.args,)
        return z
    z["shift"] = s["shift_no"]
    for op, name in OPS.items():
        count, total, _ = s["tickets"][op]
        z[name.replace(" ", "_") + "_count"] = count
        z[name.replace(" ", "_") + "_total"] = total
    for k, name in PLACEMENTS.items():
        z[name + "_count"], z[name + "_total"] = s["placements"][k]
    z.update(cash=s["cash"], revenue=s["revenue"], offline=s["offline"])
    return z


def _verify_shifts(acc, problems):
    # Every closed shift the log still keeps, through the chain value of its
    # Z (the device re-reads only the last closed one) -> the number verified
    checked = 0
    for n in range(1, acc.z_count() + 1):
        try:
            r = acc.verify_shift(n)
        except JournalError as e:
            problems.append("Z %d unreadable: %r" % (n, e.args))
            continue
        if r is None:
            continue  # the ring reused all of its records
        if r.ok:
            checked += 1
        else:
            problems.append("shift %d: %s at record %s (chain of Z %d)" % (n, r.reason, r.seq, n))
    return checked


def read_journal(log_image, fm_image, key):
    """The verdict and the contents of a dump: a dict with ok, problems (texts), self_test, log,
    fiscal_memory (counts), documents, z (summaries) and queue (lists of dicts)."""
    log = NorFlash(len(log_image) // BLOCK, image=log_image)
    fm = NorFlash(len(fm_image) // BLOCK, image=fm_image)
    problems = []
    try:
        acc = Accumulator(log, fm, key)
    except JournalError as e:
        return {"ok": False, "problems": ["the journal does not open: %r" % (e.args,)], "self_test": None, "log": None,
                "fiscal_memory": None, "documents": [], "z": [], "queue": []}
    st = acc.self_test()
    if not st.ok:
        problems.append("self-test: %s at record %s (shift %s)" % (st.reason, st.seq, st.shift))
    docs = {}
    order = []
    intact = 0
    prev = acc.oldest_seq - 1
    for seq, rtype, ts, payload in acc.readout(acc.oldest_seq):
        if seq <= prev or seq > acc.last_seq:
            continue  # a copy of an older record (reported by the open)
        prev = seq
        intact += 1
        if rtype in R.KIND:
            docs[seq] = _doc(seq, rtype, ts, payload)
            order.append(seq)
        elif rtype == ACK and len(payload) >= 4:
            d = docs.get(struct.unpack_from("<I", payload, 0)[0])
            if d is not None:
                d["fiscal_sign"], d["channel"] = R.split_ack(payload[4:])
        elif rtype == R.R_SIGN and len(payload) >= 4:
            d = docs.get(struct.unpack_from("<I", payload, 0)[0])
            if d is not None:
                d["autonomous_sign"] = bytes(payload[4:]).decode("utf-8", "replace")
    expected = acc.last_seq - acc.oldest_seq + 1 if acc.last_seq else 0
    if intact != expected:
        problems.append("records: %d of %d intact (CRC or sequence)" % (intact, expected))
    if "damaged" in acc.recovery:
        problems.append("log damaged from record %d" % acc.recovery["damaged"])
    shifts = _verify_shifts(acc, problems)
    queue = []
    for seq in acc.unacked():
        d = docs.get(seq)
        if d is not None:
            d["acknowledged"] = False
        queue.append({"seq": seq, "kind": d["kind"] if d else None, "shift": d["shift"] if d else None,
                      "number": d["number"] if d else None, "time": d["time"] if d else None})
    zs = []
    for n in range(1, acc.z_count() + 1):
        try:
            zs.append(_z(acc, n))
        except JournalError as e:
            problems.append("Z %d unreadable: %r" % (n, e.args))
    return {
        "ok": not problems,
        "problems": problems,
        "self_test": {"ok": st.ok, "reason": st.reason, "seq": st.seq, "shift": st.shift, "records": st.records,
                      "z_checked": st.z_checked},
        "log": {"sectors": acc.N, "oldest_seq": acc.oldest_seq, "last_seq": acc.last_seq, "records_intact": intact,
                "torn_bytes": acc.recovery.get("torn_bytes", 0), "shifts_verified": shifts},
        "fiscal_memory": {"z_count": acc.z_count(), "z_slots_left": acc.z_slots_left()},
        "documents": [docs[s] for s in order],
        "z": zs,
        "queue": queue,
    }


DOC_COLUMNS = ("seq", "kind", "shift", "number", "time", "operation", "total", "payments", "cashier", "operator",
               "fiscal_sign", "channel", "autonomous_sign", "acknowledged", "error")
Z_COLUMNS = ("z", "time", "shift", "sell_count", "sell_total", "sell_return_count", "sell_return_total", "buy_count",
             "buy_total", "buy_return_count", "buy_return_total", "deposit_count", "deposit_total",
             "withdrawal_count", "withdrawal_total", "cash", "revenue", "offline", "chain", "error")
QUEUE_COLUMNS = ("seq", "kind", "shift", "number", "time")


def write_csv(report, folder):
    os.makedirs(folder, exist_ok=True)
    for name, rows, cols in (("documents.csv", report["documents"], DOC_COLUMNS), ("z.csv", report["z"], Z_COLUMNS),
                             ("queue.csv", report["queue"], QUEUE_COLUMNS)):
        with open(os.path.join(folder, name), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in rows:
                cells = []
                for c in cols:
                    v = r.get(c)
                    if c == "payments" and v is not None:
                        v = ";".join("%s:%d" % (k, a) for k, a in v)
                    cells.append("" if v is None else v)
                w.writerow(cells)


def summary(report):
    lg, fm, st = report["log"], report["fiscal_memory"], report["self_test"]
    if lg is None:
        return "\n".join(["PROBLEM: " + p for p in report["problems"]] + ["NOT VERIFIED"])
    lines = [
        "log: %d sectors, records %d..%d, %d intact" % (lg["sectors"], lg["oldest_seq"], lg["last_seq"],
                                                         lg["records_intact"]),
        "fiscal memory: %d Z, %d slots left" % (fm["z_count"], fm["z_slots_left"]),
        "self-test: %s (%d records, %d Z verified)" % ("ok" if st["ok"] else st["reason"], st["records"],
                                                       st["z_checked"]),
        "closed shifts verified against their Z: %d" % lg["shifts_verified"],
        "documents: %d, waiting for the OFD: %d" % (len(report["documents"]), len(report["queue"])),
    ]
    lines += ["PROBLEM: " + p for p in report["problems"]]
    lines.append("VERIFIED" if report["ok"] else "NOT VERIFIED")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump", nargs="+", help="dump folder, or LOG FM image files")
    ap.add_argument("--key", required=True, help="file with the device key (raw bytes or hex)")
    ap.add_argument("--json", help="write the report as JSON to this file ('-': standard output)")
    ap.add_argument("--csv", help="write documents.csv, z.csv and queue.csv into this folder")
    a = ap.parse_args(argv)
    try:
        log_path, fm_path = dump_files(a.dump)
        report = read_journal(read_image(log_path), read_image(fm_path), read_key(a.key))
    except (DumpError, OSError, JournalError) as e:
        print("journal reader: %s" % (e,), file=sys.stderr)
        return 2
    if a.json == "-":
        json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print(summary(report))
        if a.json:
            with open(a.json, "w", encoding="utf-8") as f:
                json.dump(report, f, ensure_ascii=False, indent=1)
    if a.csv:
        write_csv(report, a.csv)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
