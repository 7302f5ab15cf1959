# Runs first at every reset (frozen into the image: a boot.py on the
# filesystem cannot replace it). Frozen modules come before the filesystem's
# /lib and nothing is imported from the current folder, so no file copied to
# the board can shadow a module of the frozen firmware.
import sys

sys.path[:] = [".frozen", "/lib"]
