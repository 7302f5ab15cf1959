# The register on an ESP32-S3 module with 16 MiB flash and 8 MiB octal PSRAM
# (ESP32-S3-WROOM-1-N16R8): the main target. The REPL is on the native USB
# port (the image is built with MICROPY_HW_ENABLE_UART_REPL 0, KKM_ESP32S3/),
# which leaves the three UARTs for the printer, the scanner and the modem.
# Partition table: partitions.csv here (fjournal 8 MiB, fmemory 1 MiB).
#
# GPIOs the map must not use (ESP32-S3 datasheet, HARDWARE.md 0):
#   26..32 the module's flash; 33..37 the octal PSRAM; 19, 20 USB D-/D+
#   (the REPL); 0, 3, 45, 46 strapping; 43, 44 UART0's boot-log pins.

from boards.esp32 import chip

PINS = {
    "printer": (1, 17, 18, 19200, 1024),  # UART1: ESC/POS
    "printer_cts": 16,  # printer BUSY -> CTS: raster data never overflows it
    "scanner": (2, 5, 4, 9600, 1024),  # UART2: a marking code is ~90 bytes
    "modem": (0, 11, 12, 115200, 4096),  # UART0 remapped (no UART REPL)
    "modem_power": (13, 14),  # PWRKEY, RESET
    "i2c": (0, 8, 9, 400000),  # HD44780 backpack or SSD1306, DS3231
    "rows": (38, 39, 40, 41, 42, 47),
    "cols": (1, 2, 6, 7, 15),  # 6 x 5 keypad (ui.keys PAD)
    "beeper": 21,
}
FORBIDDEN = {
    26: "flash", 27: "flash", 28: "flash", 29: "flash", 30: "flash", 31: "flash", 32: "flash",
    33: "octal PSRAM", 34: "octal PSRAM", 35: "octal PSRAM", 36: "octal PSRAM", 37: "octal PSRAM",
    19: "USB D-", 20: "USB D+", 0: "strapping", 3: "strapping", 45: "strapping", 46: "strapping",
    43: "UART0 boot log", 44: "UART0 boot log",
}
VALID = tuple(range(0, 22)) + tuple(range(26, 49))  # GPIO numbers the S3 has
INPUT_ONLY = ()
STRAPPING = {}  # strapping pins the map uses: none, the S3 has GPIOs to spare
PRINTER = "epson80"  # drivers.escpos profile
CHANNELS = ("wifi", "gsm")
MODEM = "sim7600"  # LTE Cat-1 (HARDWARE.md 4.7: 3G goes by 2027, prefer LTE)


def wire(board, bus):
    # the drivers on the buses and the channels (firmware/app.py's board interface)
    from boards.esp32.wiring import wire_all

    wire_all(board, bus, PRINTER, CHANNELS, MODEM)


def make(machine=None, esp32=None):
    return chip.make(PINS, wire, machine, esp32, "esp32s3")
