# What the register's MicroPython image freezes (boards/esp32*/KKM_*/mpconfigboard.cmake
# name this file; `make firmware` builds it): the port's own start-up modules
# and asyncio, the firmware, the drivers, the ESP32 boards and the start
# scripts, and the digest of that code (build/frozen/frozen_digest.py, written
# by `python tools/deploy.py frozen`, which make firmware runs first) that the
# power-on software test compares with the deployed manifest (firmware/
# integrity.py). Nothing else of the port's default bundle (networking tools,
# umqtt, neopixel ...): the register does not use it. micropython-lib packages the
# code imports are listed in REQUIRE (none yet: HMAC is compat.Hmac);
# tests/host/test_firmware_image.py checks that every import is covered.
metadata(description="KKM firmware for Kazakhstan (protocol 2.0.3)", version="0.1.0")

REQUIRE = ()

freeze("$(PORT_DIR)/modules")  # _boot.py mounts the vfs partition
include("$(MPY_DIR)/extmod/asyncio")
for name in REQUIRE:
    require(name)

freeze("firmware")  # journal, kkm, ofd, net, ui, app, compat, aio as top-level modules
package("drivers")
package("boards", files=["__init__.py", "target.py", "escpos_printer.py", "esp32/__init__.py", "esp32/chip.py", "esp32/wiring.py",
                         "esp32s3/__init__.py"])
module("boot.py", base_path="boards/start")
module("main.py", base_path="boards/start")
module("frozen_digest.py", base_path="build/frozen")
