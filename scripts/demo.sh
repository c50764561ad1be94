#!/usr/bin/env bash
# make demo: initialise a data directory and serve the console.
set -euo pipefail
data_dir="${1:-data/demo}"
export LINGXI_DATA_DIR="$data_dir"
bin=.venv/bin
"$bin/lingxi" init
"$bin/lingxi" status
echo
echo "Lingxi console: http://127.0.0.1:${LINGXI_PORT:-8000}   (stop with Ctrl-C)"
echo "The console is a placeholder until the service issue lands; no login is needed yet."
exec "$bin/lingxi" serve
