"""Send one command to an OFD endpoint (real or simulated) and print the answer.

    python -m tools.ofdctl --host 127.0.0.1 --port 7777 --id 203539 --token 1000 --reqnum 5 system --reg-info
    python -m tools.ofdctl ... info
    python -m tools.ofdctl ... report x
    python -m tools.ofdctl ... nomenclature --barcode 4870001000011
    python -m tools.ofdctl ... nomenclature --version 0

Prints the answer header, the decoded protobuf answer (text form) and the
token to use next. Exit status: 0 result OK, 2 another result code, 1 no
valid answer (connection, timeout, garbage).
"""

import argparse
import sys
import time


def _now():
    t = time.localtime()
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def build_request(a):
    from tools.ofdsim import build
    if a.command == "system":
        return build.system(get_reg_info=a.reg_info, get_binded_taxation=a.taxation)
    if a.command == "info":
        return build.info()
    if a.command == "report":
        return build.report(a.kind, _now())
    if a.command == "nomenclature":
        if a.barcode is not None:
            return build.nomenclature(barcode=a.barcode)
        return build.nomenclature(version=a.version)
    raise ValueError(a.command)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.ofdctl", description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7777)
    ap.add_argument("--id", type=int, required=True, help="KKM id at the OFD (header ID)")
    ap.add_argument("--token", type=int, required=True, help="current token")
    ap.add_argument("--reqnum", type=int, required=True, help="request number to send (0..65535)")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--version", dest="proto_version", type=int, default=203, help="header version (203)")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("system", help="connection test (COMMAND_SYSTEM)")
    s.add_argument("--reg-info", action="store_true", help="ask for the registration data")
    s.add_argument("--taxation", action="store_true", help="ask for the bound taxation")
    sub.add_parser("info", help="COMMAND_INFO: X of the open shift or the last Z")
    r = sub.add_parser("report", help="COMMAND_REPORT")
    r.add_argument("kind", choices=("x", "z"))
    n = sub.add_parser("nomenclature", help="COMMAND_NOMENCLATURE")
    n.add_argument("--barcode", default=None, help="look one GTIN/NTIN up in the National Catalogue")
    n.add_argument("--version", type=int, default=0, help="version held (0 = none)")
    a = ap.parse_args(argv)
    if not 0 <= a.reqnum <= 0xFFFF:
        ap.error("--reqnum must be 0..65535")

    from tools.ofdsim import client
    from tools.ofdsim.header import frame, parse_header, HEADER_SIZE
    req = build_request(a)
    try:
        if a.proto_version != 203:
            raw = client.raw_exchange(a.host, a.port, frame(a.id, a.token, a.reqnum, req.SerializeToString(),
                                                            a.proto_version), a.timeout)
            head = parse_header(raw[:HEADER_SIZE])
            _, resp = client._decode(head, raw[HEADER_SIZE:head.size])
        else:
            head, resp = client.exchange(a.host, a.port, a.id, a.token, a.reqnum, req, a.timeout)
    except (OSError, client.ExchangeError, ValueError) as e:
        print("no valid answer: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    print("# answer header: id=%d reqnum=%d version=%d size=%d" % (head.kkm_id, head.reqnum, head.version,
                                                                   head.size))
    print(resp, end="")
    code = resp.result.result_code
    print("# result: %d %s" % (code, resp.result.result_text))
    print("# token: %d%s" % (head.token, " (new)" if head.token != a.token else " (unchanged)"))
    if head.reqnum != a.reqnum:
        print("# WARNING: answer request number %d != sent %d" % (head.reqnum, a.reqnum))
    return 0 if code == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
