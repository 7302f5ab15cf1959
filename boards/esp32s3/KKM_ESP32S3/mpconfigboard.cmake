# MicroPython board definition of the register on an ESP32-S3 N16R8 (16 MiB
# flash, octal PSRAM), built out of tree:
#   make -C $MPY_DIR/ports/esp32 BOARD_DIR=<this folder>
include(boards/mpconfigboard_esp32s3_common.cmake)

# The partition table of boards/esp32s3 by absolute path (ESP-IDF reads a
# relative name from the port's folder), in a fragment written at configure time.
get_filename_component(KKM_PARTITIONS ${MICROPY_BOARD_DIR}/../partitions.csv ABSOLUTE)
file(WRITE ${CMAKE_BINARY_DIR}/sdkconfig.kkm_partitions
    "CONFIG_PARTITION_TABLE_CUSTOM=y\nCONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"${KKM_PARTITIONS}\"\n")

list(APPEND SDKCONFIG_DEFAULTS
    boards/sdkconfig.240mhz
    boards/sdkconfig.spiram_oct
    boards/sdkconfig.flash_qio_80m
    ${MICROPY_BOARD_DIR}/sdkconfig.board
    ${CMAKE_BINARY_DIR}/sdkconfig.kkm_partitions
)

get_filename_component(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/../../../manifest.py ABSOLUTE)
