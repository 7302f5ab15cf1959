# A software update on the device (KZ-43.1), whatever brought it: the new
# code folder is staged as NEW beside the running LIB, with its manifest
# (integrity). accept() takes it only with the shift closed, every document
# acknowledged by the OFD and every staged file matching the manifest; it
# keeps the running version as OLD and marks the new one on TRIAL. The next
# boot runs the self-test on the new version: settle(True) confirms it,
# settle(False) puts OLD back (the caller resets into it). Each step is a
# rename, and a boot after a power cut between two of them finishes the
# switch (resume()). power_on.start runs these at a device's power-on.

import os

import integrity
from compat import exists

LIB = "lib"
NEW = "lib.new"
OLD = "lib.old"
TRIAL = "update.trial"  # present while the new version has not passed its self-test

CONFIRMED = "confirmed"
ROLLED_BACK = "rolled back"

# why accept() refused (English for the service log; the UI maps them)
SHIFT_OPEN = "shift open"
UNACKED = "documents not acknowledged"
NOTHING_STAGED = "nothing staged"


class Refused(Exception):
    pass


def remove_tree(path):
    if not exists(path):
        return
    for name, sub in integrity.listing(path):
        p = path + "/" + name
        if sub:
            remove_tree(p)
        else:
            os.remove(p)
    os.rmdir(path)


def accept(reg, root=""):
    # switch to the staged version, or raise Refused(why)
    if reg.shift_open:
        raise Refused(SHIFT_OPEN)
    if reg.acc.unacked_count():
        raise Refused(UNACKED)
    new = root + NEW
    if not exists(new):
        raise Refused(NOTHING_STAGED)
    bad = integrity.check(new)
    if bad:
        raise Refused("staged " + bad)
    remove_tree(root + OLD)
    with open(root + TRIAL, "w") as f:
        f.write("trial")
    os.rename(root + LIB, root + OLD)
    os.rename(new, root + LIB)


def resume(root=""):
    # a power cut between the two renames of accept() or settle()
    if exists(root + LIB):
        return
    if exists(root + TRIAL) and exists(root + NEW):
        os.rename(root + NEW, root + LIB)
    elif exists(root + OLD):
        os.rename(root + OLD, root + LIB)


def on_trial(root=""):
    return exists(root + TRIAL)


def settle(passed, root=""):
    # after the self-test of a boot: None when no update was on trial
    if not on_trial(root):
        return None
    if passed:
        remove_tree(root + OLD)
        os.remove(root + TRIAL)
        return CONFIRMED
    remove_tree(root + LIB)
    os.rename(root + OLD, root + LIB)
    os.remove(root + TRIAL)
    return ROLLED_BACK
