# The register app on the PC board (the launcher tools/sim.py starts this
# under the MicroPython unix port, or CPython):
#   main.py VAR [--display 20x4|128x64|hd44780|ssd1306|sh1106] [--ofd HOST:PORT] [--scanner FIFO] [--lang kk|ru] [--info TEXT]
#               [--modem sim800|sim7600:PATH] [--fleet HOST:PORT] [--wifi SWITCH] [--stats FILE]
# (--fleet, else the environment's KKM_FLEET: the MQTT broker the telemetry
# goes to, with KKM_FLEET_USER and KKM_FLEET_PASSWORD when it asks for them)
# (--info: lines the launcher has to say, shown under the legend; --wifi: the
# channel is Wi-Fi, off the air while the file SWITCH exists; --stats: the
# day's figures to FILE as JSON, at every frame)

import sys

_root = __file__.rsplit("/", 3)[0] if __file__.count("/") >= 3 else "."
for _p in (_root + "/firmware", _root):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import boards.host as host  # noqa: E402


def _args(argv):
    opts = {"display": "20x4", "ofd": None, "scanner": None, "lang": "ru", "info": None, "modem": None,
            "fleet": None, "wifi": None, "stats": None}
    var = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and i + 1 < len(argv):
            opts[a[2:]] = argv[i + 1]
            i += 2
            continue
        var = a
        i += 1
    if var is None or opts["display"] not in host.SIZES:
        raise SystemExit("usage: main.py VAR [--display 20x4|128x64|hd44780|ssd1306|sh1106] [--ofd HOST:PORT] [--scanner FIFO]")
    return var, opts


def main(argv):
    import app

    var, o = _args(argv)
    ofd = None
    if o["ofd"]:
        h, _, p = o["ofd"].rpartition(":")
        ofd = (h, int(p))
    modem = None
    if o["modem"]:
        kind, _, path = o["modem"].partition(":")
        modem = (kind, path)
    import os

    fleet = host.fleet_settings(o["fleet"] or os.getenv("KKM_FLEET"), os.getenv("KKM_FLEET_USER"),
                                os.getenv("KKM_FLEET_PASSWORD"))
    board = host.make(var, o["display"], ofd, o["scanner"], modem=modem, fleet=fleet, wifi=o["wifi"])
    if o["stats"]:
        from boards.host.stats import Stats  # only then: the day's heap holds nothing of it otherwise

        Stats(board, o["stats"])
    t = board.term
    t.lang = o["lang"]
    t.start("KKM on the PC: %s display, paper in %s/paper.txt   ? keys  s scan  P paper  Ctrl-C quit"
            % (o["display"], var))
    t.legend()
    if o["info"]:
        t.say(o["info"])
    try:
        app.run(board)
    except KeyboardInterrupt:
        pass
    finally:
        t.stop()


main(sys.argv[1:])
