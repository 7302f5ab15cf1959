# The register on an ESP32-WROOM-32 (4 MiB flash, no PSRAM; 8 MiB with the
# FLASH_8MiB variant of KKM_ESP32/). About 110 KB of heap: the firmware must
# be frozen into the image (manifest.py). UART0 (GPIO1/3) carries the REPL
# and the boot log the service centre uses, which leaves two UARTs: the
# printer and the scanner; the OFD channel is Wi-Fi.
# Partition tables: partitions.csv (4 MiB), partitions-8MiB.csv.
#
# GPIOs the map must not use (HARDWARE.md 0): 6..11 the module's flash;
# 1, 3 UART0; 0 (download mode) and 12 (flash voltage) strapping; 34..39 are
# input-only without pull-ups (only UART rx there). The 6 x 5 keypad takes
# the last free outputs, so three strapping pins carry lines that keep
# their level at reset (STRAPPING): 5 and 15 (pulled up at reset) keypad
# rows, released then and joined only to pulled-up columns; 2 (pulled down)
# the beeper, an output idling low into its transistor's base.

from boards.esp32 import chip

PINS = {
    "printer": (1, 17, 16, 19200, 1024),  # UART1: ESC/POS
    "printer_cts": 4,  # printer BUSY -> CTS
    "scanner": (2, 33, 35, 9600, 1024),  # UART2; rx on an input-only pin
    "modem": None,
    "modem_power": None,
    "i2c": (0, 21, 22, 400000),  # display, DS3231
    "rows": (13, 14, 27, 26, 5, 15),
    "cols": (25, 32, 23, 19, 18),  # 6 x 5 keypad (ui.keys PAD), internal pull-ups
    "beeper": 2,
}
FORBIDDEN = {
    6: "flash", 7: "flash", 8: "flash", 9: "flash", 10: "flash", 11: "flash",
    1: "UART0 REPL", 3: "UART0 REPL",
    0: "strapping (download mode)", 12: "strapping (flash voltage)",
}
# strapping pin -> its level at reset, and the only use the map may make of it
STRAPPING = {5: (1, "keypad row"), 15: (1, "keypad row"), 2: (0, "beeper")}
VALID = tuple(range(0, 20)) + (21, 22, 23, 25, 26, 27) + tuple(range(32, 40))
INPUT_ONLY = (34, 35, 36, 37, 38, 39)
PRINTER = "epson80"  # drivers.escpos profile
CHANNELS = ("wifi",)


def wire(board, bus):
    # the drivers on the buses and the channels (firmware/app.py's board interface)
    from boards.esp32.wiring import wire_all

    wire_all(board, bus, PRINTER, CHANNELS)


def make(machine=None, esp32=None):
    return chip.make(PINS, wire, machine, esp32, "esp32")
