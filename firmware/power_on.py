# A device's power-on (its main.py, KZ-43.1): finish an update switch a
# power cut interrupted (update.resume), build the app (the register's
# self-test, with the hash check of the code folder), settle a version on
# trial (update.settle: confirmed, or rolled back and reset into the old
# one), say so on the console, run the app.

import update
from compat import print_exception


def start(make_board, reset, root=""):
    update.resume(root)
    try:
        import app

        a = app.build(make_board())
        failed = app.self_test_failed(a.reg)
    except Exception as e:
        if not update.on_trial(root):
            raise
        print_exception(e)  # the new version does not even start
        failed = True
    out = update.settle(not failed, root)
    if out == update.ROLLED_BACK:
        print("update rolled back: the new version failed its self-test")
        reset()
        return
    if out:
        print("update " + out)
        a.updated = out  # the telemetry reports it (update applied)
    print(app.ready_line(a))
    app.serve(a)
