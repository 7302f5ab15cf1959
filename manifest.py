# Freezes the register firmware into a MicroPython ESP32 image:
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=$(pwd)/manifest.py   (in micropython/ports/esp32)
metadata(description="KKM firmware for Kazakhstan (protocol 2.0.3)", version="0.1.0")
include("$(PORT_DIR)/boards/manifest.py")
freeze("firmware")
freeze("drivers")
