#!/usr/bin/env bash
# System packages the host tests need (a headless browser for the check page, an MQTT broker).
# Installs them from Debian when missing and we may; otherwise says what is missing.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the display font's source (tools/gen_display_font.py)
# the printer font (tools/printer_font.py: receipts, the ESC/POS interpreter)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)
# the service centre's MQTT broker (tools/fleetwatch/broker.py: make fleet, the fleet tests)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing system packages (the browser tests are skipped): ${need[*]}" >&2
fi
