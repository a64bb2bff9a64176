#!/usr/bin/env bash
# Installs the Debian packages the application needs, when they are missing:
#   always: Pango and a font, which WeasyPrint draws the agreement PDFs with;
#   with --browser: Chromium and its driver, for the browser tests.
# Installing needs root; without it the script names what is missing and stops.
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

need=()
if command -v dpkg-query >/dev/null 2>&1; then
  for package in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
    installed "$package" || need+=("$package")
  done
else
  echo "Not a Debian system: PDFs need Pango 1.44 or later and the DejaVu fonts, from your system's packages" >&2
fi
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  need+=(chromium chromium-driver)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${need[*]}. Install them first (needs root): apt-get install ${need[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
