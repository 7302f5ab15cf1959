# MicroPython board definition of the register on an ESP32-WROOM-32 (4 MiB
# flash, no PSRAM), built out of tree:
#   make -C $MPY_DIR/ports/esp32 BOARD_DIR=<this folder> [BOARD_VARIANT=FLASH_8MiB]
include(boards/mpconfigboard_esp32_common.cmake)

# The partition table of boards/esp32 by absolute path (ESP-IDF reads a
# relative name from the port's folder), in a fragment written at configure
# time; the FLASH_8MiB variant writes it again for the 8 MiB table.
get_filename_component(KKM_PARTITIONS ${MICROPY_BOARD_DIR}/../partitions.csv ABSOLUTE)
file(WRITE ${CMAKE_BINARY_DIR}/sdkconfig.kkm_partitions
    "CONFIG_PARTITION_TABLE_CUSTOM=y\nCONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"${KKM_PARTITIONS}\"\n")

list(APPEND SDKCONFIG_DEFAULTS
    ${MICROPY_BOARD_DIR}/sdkconfig.board
    ${CMAKE_BINARY_DIR}/sdkconfig.kkm_partitions
)

get_filename_component(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/../../../manifest.py ABSOLUTE)
