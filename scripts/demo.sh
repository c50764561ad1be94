#!/usr/bin/env bash
# make demo: build the synthetic demo bank, run the daily pipeline over it, serve the console.
set -euo pipefail
data_dir="${1:-data/demo}"
customers="${DEMO_CUSTOMERS:-20000}"
seed="${DEMO_SEED:-7}"
export LINGXI_DATA_DIR="$data_dir"
bin=.venv/bin
started=$(date +%s)

"$bin/lingxi" init
# The synthetic bank is deterministic for a seed and resumable: a second `make demo` reuses it.
"$bin/lingxi" sim --customers "$customers" --days 90 --seed "$seed" --out "$data_dir/extracts"
"$bin/lingxi" pipeline run --extracts "$data_dir/extracts"
"$bin/lingxi" status

echo
echo "Demo bank ready in $(( $(date +%s) - started )) s: $customers customers (seed $seed) in $data_dir"
echo "Lingxi console: http://127.0.0.1:${LINGXI_PORT:-8000}   (stop with Ctrl-C)"
echo "Login: none yet — the console is a placeholder until the service issue lands."
exec "$bin/lingxi" serve
