"""Command line of the simulated OFD.

    python -m tools.ofdsim [serve] --db var/ofd.sqlite --port 7777 --http 8080
    python -m tools.ofdsim register --db var/ofd.sqlite --kkm-id 203539 --rnm 010100012345 \\
        --serial SN0001 --title 'ЖШС «Алма»' --bin 123456789012 --address 'Алматы' --token 12345
    python -m tools.ofdsim register --db var/ofd.sqlite --config registers.json
    python -m tools.ofdsim list --db var/ofd.sqlite
    python -m tools.ofdsim fault --admin http://127.0.0.1:8080 delay --seconds 6 [--kkm-id N] [--count 1]
    python -m tools.ofdsim fault --admin http://127.0.0.1:8080 clear
    python -m tools.ofdsim block|unblock|message|token ... (through the admin API of a running server)
    python -m tools.ofdsim zreports --kkm-id 203539     # each Z: the register's against the OFD's
    python -m tools.ofdsim xcheck --kkm-id 203539       # the last X: the register's against the OFD's
    python -m tools.ofdsim settings --reject-z-mismatch on|off   # kept in the database
"""

import argparse
import asyncio
import json
import logging
import signal
import sys
import urllib.error
import urllib.request

from tools.ofdsim.faults import KINDS

SUBCOMMANDS = ("serve", "register", "list", "fault", "block", "unblock", "message", "token", "status", "zreports",
               "xcheck", "settings")


def _serve(argv):
    ap = argparse.ArgumentParser(prog="python -m tools.ofdsim", description="Simulated OFD (protocol 2.0.3)")
    ap.add_argument("--db", default="var/ofd.sqlite", help="SQLite file (created if missing)")
    ap.add_argument("--host", default="127.0.0.1", help="protocol listen address (0.0.0.0 for real boards)")
    ap.add_argument("--port", type=int, default=7777, help="protocol TCP port (0 = any free)")
    ap.add_argument("--http-host", default="127.0.0.1", help="web/admin listen address")
    ap.add_argument("--http", type=int, default=8080, help="web/admin port (0 = any free)")
    ap.add_argument("--public-url", default=None,
                    help="base URL put into receipt QR codes (default http://<http-host>:<http>)")
    ap.add_argument("--config", default=None, help="JSON file of registers to register at start")
    ap.add_argument("--rotate-all", action="store_true", help="issue a new token on every answer")
    ap.add_argument("--strict-reqnum", action="store_true", help="require REQNUM = previous + 1 (else code 8)")
    ap.add_argument("--accept-version", type=int, action="append", default=None,
                    help="accepted header versions (default 203; repeat to add)")
    ap.add_argument("--shift-clock", choices=("device", "server"), default="device",
                    help="24 h shift limit counted on the ticket times only, or also on the server clock")
    ap.add_argument("--tz-offset", type=float, default=5.0, help="server local time zone, hours (Almaty +5)")
    ap.add_argument("--admin-remote", action="store_true",
                    help="let non-loopback clients use the admin API (it has no authentication)")
    ap.add_argument("--read-timeout", type=float, default=30.0,
                    help="seconds a client has to send its whole request (and to take the answer)")
    ap.add_argument("--reject-z-mismatch", action=argparse.BooleanOptionalAction, default=None,
                    help="answer CLOSE_SHIFT with 13 when the register's Z differs from the OFD's (off: accept"
                         " it, store the differences and answer with the OFD's Z, as a real OFD does); stored in"
                         " the database: without the flag the last setting (also one made at run time) holds,"
                         " off in a new database")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("ofdsim").setLevel(logging.INFO)

    from tools.ofdsim.server import OfdServer
    from tools.ofdsim.store import load_config

    srv = OfdServer(a.db, host=a.host, port=a.port, http_host=a.http_host, http_port=a.http,
                    public_url=a.public_url, read_timeout_s=a.read_timeout, admin_remote=a.admin_remote,
                    rotate_all=a.rotate_all, strict_reqnum=a.strict_reqnum,
                    versions=tuple(a.accept_version or (203,)), shift_clock=a.shift_clock,
                    tz_offset_s=int(a.tz_offset * 3600), reject_z_mismatch=a.reject_z_mismatch)

    async def main():
        await srv.start()
        if a.config:
            for k in load_config(srv.store, a.config):
                print("registered kkm %d (RNM %s)" % (k["kkm_id"], k["rnm"]), flush=True)
        print("OFD simulator ready: protocol %s:%d  web http://%s:%d/  db %s"
              % (a.host, srv.port, a.http_host, srv.http_port, a.db), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await srv.stop()

    asyncio.run(main())
    return 0


def _register(argv):
    ap = argparse.ArgumentParser(prog="python -m tools.ofdsim register")
    ap.add_argument("--db", default="var/ofd.sqlite")
    ap.add_argument("--config", help="JSON file {\"registers\": [{kkm_id, rnm, serial, title, bin, address, token}]}")
    ap.add_argument("--kkm-id", type=int)
    ap.add_argument("--rnm", help="registration number at the state revenue body")
    ap.add_argument("--serial", help="factory number")
    ap.add_argument("--title", help="taxpayer name")
    ap.add_argument("--bin", help="taxpayer BIN/IIN (12 digits)")
    ap.add_argument("--address")
    ap.add_argument("--address-kz", default=None)
    ap.add_argument("--token", type=int, help="initial token")
    a = ap.parse_args(argv)
    from tools.ofdsim.store import Store, load_config
    st = Store(a.db)
    try:
        if a.config:
            rows = load_config(st, a.config)
        else:
            missing = [n for n in ("kkm_id", "rnm", "serial", "title", "bin", "address", "token")
                       if getattr(a, n) is None]
            if missing:
                ap.error("missing --%s (or use --config)" % ", --".join(m.replace("_", "-") for m in missing))
            rows = [st.register(a.kkm_id, a.rnm, a.serial, a.title, a.bin, a.address, a.token,
                                address_kz=a.address_kz)]
        for k in rows:
            print("registered kkm %d RNM %s serial %s token %d" % (k["kkm_id"], k["rnm"], k["serial"], k["token"]))
    finally:
        st.close()
    return 0


def _list(argv):
    ap = argparse.ArgumentParser(prog="python -m tools.ofdsim list")
    ap.add_argument("--db", default="var/ofd.sqlite")
    a = ap.parse_args(argv)
    from tools.ofdsim.store import Store
    st = Store(a.db)
    try:
        for k in st.kkms():
            print("%d\tRNM %s\tserial %s\ttoken %d\ttickets %d\t%s%s" % (
                k["kkm_id"], k["rnm"], k["serial"], k["token"], st.count("tickets", k["kkm_id"]), k["title"],
                "\tBLOCKED" if k["blocked"] else ""))
    finally:
        st.close()
    return 0


def _http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode("utf-8") or "{}")


def _admin(cmd, argv):
    ap = argparse.ArgumentParser(prog="python -m tools.ofdsim " + cmd)
    ap.add_argument("--admin", default="http://127.0.0.1:8080", help="base URL of the running simulator")
    if cmd == "fault":
        ap.add_argument("kind", choices=KINDS + ("list", "clear", "remove"))
        ap.add_argument("--kkm-id", type=int, default=None, help="only this register (default: all)")
        ap.add_argument("--seconds", type=float, default=None, help="delay / down time")
        ap.add_argument("--bytes", type=int, default=None, help="close_after: bytes sent; garbage: length")
        ap.add_argument("--code", type=int, default=None, help="result: the result code (default 254)")
        ap.add_argument("--count", type=int, default=None, help="apply this many times, then drop")
        ap.add_argument("--duration", type=float, default=None, help="active for this many seconds")
        ap.add_argument("--id", type=int, default=None, help="remove: fault id")
    elif cmd == "settings":
        ap.add_argument("--reject-z-mismatch", choices=("on", "off"), default=None,
                        help="answer 13 to a CLOSE_SHIFT whose Z differs from the OFD's (default off)")
    elif cmd in ("block", "unblock", "message", "token", "zreports", "xcheck"):
        ap.add_argument("--kkm-id", type=int, required=(cmd != "message"))
        if cmd == "block":
            ap.add_argument("--reason", default="")
        if cmd == "message":
            ap.add_argument("--type", default="INFO", help="OFD|ORG|POS|KKM|INFO")
            ap.add_argument("text")
        if cmd == "token":
            ap.add_argument("token", type=int)
    a = ap.parse_args(argv)
    base = a.admin.rstrip("/")
    if cmd == "status":
        st, out = _http("GET", base + "/admin/status")
    elif cmd == "zreports":
        st, out = _http("GET", base + "/admin/registers/%d/zreports" % a.kkm_id)
    elif cmd == "xcheck":
        st, out = _http("GET", base + "/admin/registers/%d/xcheck" % a.kkm_id)
    elif cmd == "settings":
        if a.reject_z_mismatch is None:
            st, out = _http("GET", base + "/admin/settings")
        else:
            st, out = _http("POST", base + "/admin/settings", {"reject_z_mismatch": a.reject_z_mismatch == "on"})
    elif cmd == "fault":
        if a.kind == "list":
            st, out = _http("GET", base + "/admin/faults")
        elif a.kind == "clear":
            st, out = _http("DELETE", base + "/admin/faults")
        elif a.kind == "remove":
            st, out = _http("DELETE", base + "/admin/faults/%d" % a.id)
        else:
            spec = {"kind": a.kind}
            for k in ("kkm_id", "seconds", "bytes", "code", "count", "duration"):
                if getattr(a, k) is not None:
                    spec[k] = getattr(a, k)
            st, out = _http("POST", base + "/admin/faults", spec)
    elif cmd == "block":
        st, out = _http("POST", base + "/admin/registers/%d/block" % a.kkm_id, {"reason": a.reason})
    elif cmd == "unblock":
        st, out = _http("POST", base + "/admin/registers/%d/unblock" % a.kkm_id, {})
    elif cmd == "token":
        st, out = _http("POST", base + "/admin/registers/%d/token" % a.kkm_id, {"token": a.token})
    else:
        path = "/admin/messages" if a.kkm_id is None else "/admin/registers/%d/messages" % a.kkm_id
        st, out = _http("POST", base + path, {"type": a.type, "text": a.text})
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0 if st < 300 else 1


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv[0] if argv and argv[0] in SUBCOMMANDS else "serve"
    if argv and argv[0] == cmd:
        argv = argv[1:]
    if cmd == "serve":
        return _serve(argv)
    if cmd == "register":
        return _register(argv)
    if cmd == "list":
        return _list(argv)
    return _admin(cmd, argv)


if __name__ == "__main__":
    sys.exit(main())
