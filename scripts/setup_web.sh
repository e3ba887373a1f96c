#!/usr/bin/env bash
# Front-end setup for the chat page and the browser test (Makefile targets `web` and `test`).
#
#   scripts/setup_web.sh            npm ci when package-lock.json changed; put the widget bundle
#                                   (rasa-webchat 1.0.1) into web/vendor/ without its web-font import
#   scripts/setup_web.sh --browser  also install Debian's chromium when /usr/bin/chromium is missing
#
# Why: the page serves the widget from our own files (no CDN), and a city site should not load
# fonts from the internet behind its visitors' backs. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

if ! command -v npm >/dev/null; then
  echo "error: npm not found; install Node.js 20 and npm (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# npm ci only when the lock file changed since the last install (npm keeps a copy of it).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[setup_web] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

src=node_modules/rasa-webchat/lib/index.js
dest=web/vendor/webchat.js
if [[ ! -f $dest || $src -nt $dest || $0 -nt $dest ]]; then
  mkdir -p web/vendor
  # The bundle's CSS starts each style sheet with an @import of the Inter font from the
  # internet; drop it (web/opastin-widget.css sets a local font stack instead).
  node - "$src" "$dest.tmp" <<'JS'
const fs = require("fs");
const [src, dest] = process.argv.slice(2);
const text = fs.readFileSync(src, "utf8");
const fontImport = /@import url\(https:\/\/fonts\.googleapis\.com\/[^)]*\);/g;
const count = (text.match(fontImport) || []).length;
if (count === 0) throw new Error(`no font import found in ${src}: did rasa-webchat change?`);
const out = text.replace(fontImport, "");
if (out.includes("fonts.googleapis")) throw new Error("a font import is left in the bundle");
fs.writeFileSync(dest, out);
console.log(`[setup_web] widget bundle in place, ${count} web-font imports removed`);
JS
  mv "$dest.tmp" "$dest"
  cp node_modules/rasa-webchat/LICENSE web/vendor/webchat.LICENSE
fi

if (( want_browser )) && [[ ! -x /usr/bin/chromium ]]; then
  echo "[setup_web] installing Debian's chromium for the browser test"
  if (( EUID != 0 )); then
    echo "error: /usr/bin/chromium is missing; run as root or: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
fi
