#!/usr/bin/env bash
# Installs what the test suite needs from Debian's packages when it is missing:
#   Java 17 (Spark engine tests), the PostgreSQL server binaries (store tests start a throw-away
#   cluster of their own on 127.0.0.1; an already running server is left alone), and Chromium with a
#   CJK font (console tests drive /usr/bin/chromium with Playwright; the font makes Chinese render).
set -euo pipefail

need=()
if ! command -v java >/dev/null 2>&1; then need+=(openjdk-17-jre-headless); fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
if [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then need+=(fonts-wqy-microhei); fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "installing test dependencies from Debian's packages: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: ${need[*]} missing and no root/sudo to install them" >&2
    echo "  hint: install them with your package manager, then run make test again" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
