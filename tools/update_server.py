"""The service centre's update server: signed packages over HTTP, with an index.

``python tools/update_server.py publish --dir var/fleet/updates pkg.kkm`` files a signed
package (tools/fleet_sign.py) under ``<board>/<version>.kkm``.

``python tools/update_server.py serve --dir var/fleet/updates --port 8470`` serves:

- ``GET /index.json``: the latest version of each board,
  ``{"esp32s3": {"version": "0.2.0", "minimum": "0.1.0", "url": "/esp32s3/0.2.0.kkm", "size": N}}``
- ``GET /<board>/<version>.kkm``: the package, with its Content-Length (the register reads
  it in chunks: firmware/fleet/updater.py).

The server needs no secret: each package carries the service centre's signature, which
the register verifies against the key provisioned at deploy.
"""

import argparse
import os
import shutil
import sys

from aiohttp import web

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if os.path.join(ROOT, "firmware") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "firmware"))

from fleet import package as P  # noqa: E402

SUFFIX = ".kkm"


def read_header(path):
    # the package's Header (board, version, minimum), from its body
    with open(path, "rb") as f:
        if f.read(len(P.MAGIC)) != P.MAGIC:
            raise ValueError("%s: not an update package" % path)
        n = int.from_bytes(f.read(4), "big")
        if n > P.MAX_BODY:
            raise ValueError("%s: not an update package" % path)
        text = f.read(n).decode()
    try:
        return P.header(iter(text.split("\n")))
    except P.Refused:
        raise ValueError("%s: no board, version or minimum in its header" % path)


def publish(folder, path):
    h = read_header(path)
    dest = os.path.join(folder, h.board, h.version + SUFFIX)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(path, dest)
    return dest


def index(folder):
    out = {}
    if not os.path.isdir(folder):
        return out
    for board in sorted(os.listdir(folder)):
        best = None
        for name in os.listdir(os.path.join(folder, board)):
            if not name.endswith(SUFFIX):
                continue
            path = os.path.join(folder, board, name)
            h = read_header(path)
            if best is None or P.newer(h.version, best[0].version):
                best = (h, path)
        if best is not None:
            h, path = best
            out[board] = {"version": h.version, "minimum": h.minimum, "size": os.path.getsize(path),
                          "url": "/%s/%s%s" % (board, h.version, SUFFIX)}
    return out


def make_app(folder):
    async def get_index(request):
        return web.json_response(index(folder))

    async def get_package(request):
        board, name = request.match_info["board"], request.match_info["name"]
        path = os.path.join(folder, board, name)
        if "/" in board or ".." in board or not name.endswith(SUFFIX) or not os.path.isfile(path):
            raise web.HTTPNotFound(text="no package %s/%s\n" % (board, name))
        with open(path, "rb") as f:
            data = f.read()
        # a plain body with its length: the register's client reads no chunked encoding
        return web.Response(body=data, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/index.json", get_index)
    app.router.add_get("/{board}/{name}", get_package)
    return app


async def start(folder, host="127.0.0.1", port=0):
    """Serve in the running loop -> (runner, port); runner.cleanup() stops it."""
    runner = web.AppRunner(make_app(folder))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pb = sub.add_parser("publish", help="file a signed package for serving")
    pb.add_argument("--dir", required=True)
    pb.add_argument("package")
    sv = sub.add_parser("serve", help="serve the packages and the index over HTTP")
    sv.add_argument("--dir", required=True)
    sv.add_argument("--host", default="0.0.0.0")
    sv.add_argument("--port", type=int, default=8470)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "publish":
            print("published %s" % publish(a.dir, a.package))
            return 0
    except (OSError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    print("update server on http://%s:%d/index.json (packages in %s)" % (a.host, a.port, a.dir))
    web.run_app(make_app(a.dir), host=a.host, port=a.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
