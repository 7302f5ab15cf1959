"""A test double of esptool for tools/service.py: a chip is a folder
($FAKE_CHIP) with flash.bin (the whole flash) and mac.txt; the port must be
that folder's `port` file. Speaks the esptool v5 command line the service
commands use: read-mac, read-flash, verify-flash, write-flash, erase-flash,
erase-region. Every call is appended to calls.txt."""

import os
import sys


def main(argv):
    chip = os.environ["FAKE_CHIP"]
    opts = {}
    while argv and argv[0].startswith("--"):
        opts[argv[0]] = argv[1]
        argv = argv[2:]
    with open(os.path.join(chip, "calls.txt"), "a") as f:
        f.write(" ".join(argv) + "\n")
    if opts.get("--port") != os.path.join(chip, "port"):
        print("A fatal error occurred: Could not open %s, the port is busy or doesn't exist." % opts.get("--port"))
        return 2
    path = os.path.join(chip, "flash.bin")
    with open(path, "rb") as f:
        flash = bytearray(f.read())
    cmd, args = argv[0], argv[1:]
    if cmd == "read-mac":
        print("esptool v5.6.0\nConnected to %s\nMAC:                %s\nHard resetting via RTS pin..."
              % (opts["--chip"], open(os.path.join(chip, "mac.txt")).read().strip()))
    elif cmd == "read-flash":
        addr, size = int(args[0], 0), int(args[1], 0)
        with open(args[2], "wb") as f:
            f.write(flash[addr:addr + size])
    elif cmd == "verify-flash":
        for i in range(0, len(args), 2):
            data = open(args[i + 1], "rb").read()
            addr = int(args[i], 0)
            if flash[addr:addr + len(data)] != data:
                print("Verifying 0x%x (%d) bytes @ 0x%08x in flash against %s...\n-- verify FAILED"
                      % (len(data), len(data), addr, args[i + 1]))
                return 2
    elif cmd == "write-flash":
        args = [a for a in args if not a.startswith("-")]
        addr, data = int(args[0], 0), open(args[1], "rb").read()
        flash[addr:addr + len(data)] = data
    elif cmd == "erase-flash":
        flash[:] = b"\xff" * len(flash)
    elif cmd == "erase-region":
        addr, size = int(args[0], 0), int(args[1], 0)
        flash[addr:addr + size] = b"\xff" * size
    else:
        print("unknown command " + cmd)
        return 2
    with open(path, "wb") as f:
        f.write(flash)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
