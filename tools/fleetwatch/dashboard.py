"""The service centre's fleet dashboard: subscribes to the registers'
telemetry (kkm/+/status, kkm/+/event, kkm/+/online; firmware/fleet/telemetry.py)
and shows each register with its version, status and alerts on a web page
that refreshes itself every second (docs/fleet.md).

    python -m tools.fleetwatch.dashboard --broker 127.0.0.1:1883 --http 8090 [--latest 0.2.0]
                                    [--user U --password P]

    GET  /            the page          GET /rows   its table (what the page reloads)
    GET  /api/fleet   the registers as JSON
    POST /api/cmd     {"register": "<factory no>" or "*", "cmd": "refresh"} or
                      {"register": ..., "cmd": "update", "url": ..., "version": ...}

Alerts: offline, the 72 h lock in force or less than NEAR_72H_H hours away,
out of paper, Z_LOW or fewer Z slots, a failed self-test, other locks,
firmware older than the newest in the fleet (or --latest).
"""

import argparse
import asyncio
import html
import json
import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from aiohttp import web  # noqa: E402

from fleet import mqtt  # noqa: E402
from kkm import locks as L  # noqa: E402

NEAR_72H_H = 24  # hours before the 72 h lock from which the service centre is warned
SELF_TEST = (L.SELFTEST_HW, L.SELFTEST_SW, L.ACC_INTEGRITY, L.FIRMWARE)
EVENTS_KEPT = 50


def version_key(v):
    out = []
    for part in str(v or "").split("."):
        out.append(int(part) if part.isdigit() else -1)
    return tuple(out)


class Register:
    def __init__(self, fn):
        self.fn = fn
        self.status = {}
        self.online = None
        self.seen = None  # time.time() of the last status
        self.selftest = None  # the codes of a self-test failure event


class Fleet:
    def __init__(self, latest=None):
        self.latest = latest
        self.registers = {}
        self.events = []  # (time received, factory no, event), newest last
        self.keys = set()  # (factory no, n, t) of the events seen: a DUP is shown once

    def register(self, fn):
        r = self.registers.get(fn)
        if r is None:
            r = self.registers[fn] = Register(fn)
        return r

    def on_message(self, topic, payload):
        parts = topic.split("/")
        if len(parts) != 3 or parts[0] != "kkm":
            return
        fn, kind = parts[1], parts[2]
        try:
            if kind == "status":
                st = json.loads(payload)
                if isinstance(st, dict):
                    r = self.register(fn)
                    r.status = st
                    r.seen = time.time()
            elif kind == "online":
                self.register(fn).online = payload == b"1"
            elif kind == "event":
                ev = json.loads(payload)
                key = (fn, ev.get("n"), ev.get("t"))
                if key in self.keys:
                    return
                self.keys.add(key)
                self.events.append((time.time(), fn, ev))
                del self.events[:-EVENTS_KEPT]
                if ev.get("kind") == "selftest_failed":
                    self.register(fn).selftest = ev.get("detail")
        except (ValueError, AttributeError):
            pass  # not telemetry of ours

    def newest(self):
        vs = [r.status.get("version") for r in self.registers.values() if r.status.get("version")]
        if self.latest:
            vs.append(self.latest)
        return max(vs, key=version_key) if vs else None

    def alerts(self, r, newest=None):
        # [(kind, text)] for one register
        st = r.status
        out = []
        locks = st.get("locks") or []
        if r.online is False:
            out.append(("offline", "not connected"))
        lock_in = st.get("lock_in_h")
        if L.OFFLINE_72H in locks:
            out.append(("lock72", "72 h lock: documents not sent to the OFD"))
        elif lock_in is not None and lock_in <= NEAR_72H_H:
            out.append(("near72", "72 h lock in %.1f h (%d queued)" % (lock_in, st.get("queue") or 0)))
        if L.NO_PAPER in locks or st.get("paper") == "no_paper":
            out.append(("paper", "out of paper"))
        z = st.get("z_left")
        if z is not None and z <= L.Z_LOW:
            out.append(("zslots", "%d Z slots left" % z))
        failed = [c for c in locks if c in SELF_TEST] or r.selftest
        if failed:
            out.append(("selftest", "self-test failed: %s" % failed))
        other = [c for c in locks if c not in SELF_TEST and c not in (L.OFFLINE_72H, L.NO_PAPER)]
        if other:
            out.append(("locks", "locks %s" % other))
        v = st.get("version")
        if v and newest and version_key(v) < version_key(newest):
            out.append(("firmware", "firmware %s, %s is out" % (v, newest)))
        return out

    def as_json(self):
        newest = self.newest()
        return {"newest": newest, "registers": [
            {"factory_no": r.fn, "online": r.online, "status": r.status,
             "alerts": [k for k, _ in self.alerts(r, newest)]} for r in self.rows()]}

    def rows(self):
        return [self.registers[k] for k in sorted(self.registers)]


def _cell(v):
    return "" if v is None else html.escape(str(v))


def rows_html(fleet):
    newest = fleet.newest()
    out = ['<table id="fleet"><tr><th>register</th><th>RNM</th><th>version</th><th>mode</th><th>queue</th>'
           '<th>72 h lock in</th><th>paper</th><th>channel</th><th>Z left</th><th>heap</th><th>alerts</th></tr>']
    for r in fleet.rows():
        st = r.status
        al = fleet.alerts(r, newest)
        out.append('<tr data-register="%s" class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                   '<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="alerts">%s</td></tr>' % (
                       _cell(r.fn), "alert" if al else "ok", _cell(r.fn), _cell(st.get("rnm")),
                       _cell(st.get("version")), _cell(st.get("mode")), _cell(st.get("queue")),
                       "" if st.get("lock_in_h") is None else "%.1f h" % st["lock_in_h"], _cell(st.get("paper")),
                       _cell(st.get("channel")), _cell(st.get("z_left")), _cell(st.get("heap")),
                       " ".join('<span class="alert" data-alert="%s">%s</span>' % (k, html.escape(t))
                                for k, t in al)))
    out.append("</table><h2>Events</h2><ul id=\"events\">")
    for t, fn, ev in reversed(fleet.events[-20:]):
        out.append("<li>%s %s %s %s</li>" % (time.strftime("%H:%M:%S", time.localtime(t)), _cell(fn),
                                              _cell(ev.get("kind")), _cell(json.dumps(ev.get("detail")))))
    out.append("</ul>")
    return "".join(out)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>KKM fleet</title>
<style>
body { font-family: sans-serif; margin: 1em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #bbb; padding: 2px 6px; }
tr.alert { background: #fee; }
span.alert { background: #c00; color: #fff; padding: 0 4px; margin-right: 4px; border-radius: 3px; }
</style></head>
<body><h1>KKM fleet</h1>
<div id="rows">%s</div>
<script>
async function reload() {
  try {
    const r = await fetch("/rows");
    if (r.ok) document.getElementById("rows").innerHTML = await r.text();
  } catch (e) {}
}
setInterval(reload, 1000);
</script>
</body></html>
"""


class Dashboard:
    def __init__(self, broker, user=None, password=None, latest=None):
        self.fleet = Fleet(latest)
        host, port = broker

        def opener(timeout_ms):
            return asyncio.wait_for(asyncio.open_connection(host, port), timeout_ms / 1000)

        self.client = mqtt.Client(opener, "dashboard-%d" % os.getpid(), user, password, 30)
        for t, q in (("kkm/+/status", 0), ("kkm/+/online", 0), ("kkm/+/event", 1)):
            self.client.subscribe(t, q)
        self.client.on_message = self.fleet.on_message

    async def page(self, request):
        return web.Response(text=PAGE % rows_html(self.fleet), content_type="text/html")

    async def rows(self, request):
        return web.Response(text=rows_html(self.fleet), content_type="text/html")

    async def api_fleet(self, request):
        return web.json_response(self.fleet.as_json())

    async def api_cmd(self, request):
        try:
            body = await request.json()
            who = body.pop("register")
        except (ValueError, KeyError, AttributeError):
            return web.json_response({"error": "register and cmd are required"}, status=400)
        targets = sorted(self.fleet.registers) if who == "*" else [who]
        try:
            for fn in targets:
                await self.client.publish("kkm/%s/cmd" % fn, json.dumps(body), False, 1)
        except OSError as e:
            return web.json_response({"error": "the broker is not reachable: %s" % e}, status=503)
        return web.json_response({"sent": targets})

    def app(self):
        a = web.Application()
        a.router.add_get("/", self.page)
        a.router.add_get("/rows", self.rows)
        a.router.add_get("/api/fleet", self.api_fleet)
        a.router.add_post("/api/cmd", self.api_cmd)
        return a


async def serve(dash, http_port, host="127.0.0.1"):
    runner = web.AppRunner(dash.app())
    await runner.setup()
    site = web.TCPSite(runner, host, http_port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print("fleet dashboard on http://%s:%d/" % (host, port), flush=True)
    task = asyncio.create_task(dash.client.run())
    try:
        await asyncio.Event().wait()
    finally:
        task.cancel()
        await runner.cleanup()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--broker", default="127.0.0.1:1883", help="host:port of the MQTT broker")
    ap.add_argument("--http", type=int, default=8090, help="web port (0: any)")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--latest", help="the firmware version the fleet should run")
    a = ap.parse_args(argv)
    h, _, p = a.broker.rpartition(":")
    dash = Dashboard((h or "127.0.0.1", int(p)), a.user, a.password, a.latest)
    try:
        asyncio.run(serve(dash, a.http))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
