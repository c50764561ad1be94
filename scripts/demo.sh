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
# The synthetic bank is deterministic for a seed and resumable: a second `make demo` reuses it. One built by
# another Lingxi version (or other settings) cannot be mixed with a new one: the demo bank is built again.
same_bank() {
  "$bin/python" - "$data_dir/extracts/_sim.json" "$customers" "$seed" <<'PY'
import json, sys
from lingxi.config import Settings
from lingxi.sim import SimConfig
path, customers, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = SimConfig(customers=customers, days=90, seed=seed, hash_key=Settings().keyring().hash_key)
with open(path, encoding="utf-8") as f:
    sys.exit(0 if json.load(f) == config.manifest() else 1)
PY
}
if [ -f "$data_dir/extracts/_sim.json" ] && ! same_bank; then
  echo "the demo bank in $data_dir was built by another Lingxi version or with other settings: building it again"
  rm -rf "$data_dir"
  "$bin/lingxi" init
fi
"$bin/lingxi" sim --customers "$customers" --days 90 --seed "$seed" --out "$data_dir/extracts"
"$bin/lingxi" pipeline run --extracts "$data_dir/extracts"
"$bin/lingxi" status

# Demo users, one per kind of work, sharing one random password kept (mode 600) in the data directory so a
# second `make demo` prints the same one. The branch RM gets the branch with the most customers.
password_file="$data_dir/demo-password.txt"
if [ ! -s "$password_file" ]; then
  (umask 077; "$bin/python" -c 'import secrets; print("demo-" + secrets.token_urlsafe(12))' > "$password_file")
fi
password=$(cat "$password_file")
branch=$("$bin/python" - <<'PY'
from lingxi.config import Settings
from lingxi.engine import engine_from
from lingxi.store import Lake, connect

s = Settings()
with engine_from(s) as engine:
    Lake(s.lake_dir, connect(s.resolved_database_url)).register(engine, ["customers"])
    query = "SELECT branch_id FROM customers GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    print(engine.run(query, label="the demo RM's branch").column(0)[0].as_py())
PY
)
existing=$(COLUMNS=250 "$bin/lingxi" user list 2>/dev/null || true)  # wide: names must not be cut
add_user() {  # name role [branch]
  if ! grep -q "$1" <<<"$existing"; then
    printf '%s\n' "$password" | "$bin/lingxi" user add "$1" --role "$2" ${3:+--branch "$3"} --password-stdin >/dev/null
  fi
}
add_user demo-admin admin
add_user demo-strategist strategist
add_user demo-rm branch_rm "$branch"
add_user demo-auditor auditor

echo
echo "Demo bank ready in $(( $(date +%s) - started )) s: $customers customers (seed $seed) in $data_dir"
echo "Lingxi console: http://127.0.0.1:${LINGXI_PORT:-8000}   (stop with Ctrl-C)"
echo "Sign in as any of these users with the password  $password"
echo "  demo-strategist   head-office strategist: every branch, masked"
echo "  demo-rm           branch RM of $branch: that branch only, may unmask names (audited)"
echo "  demo-auditor      auditor: the audit log, no customer data"
echo "  demo-admin        administrator: no customer data (manage users with \`lingxi user\`)"
echo "(the password is kept in $password_file)"
exec "$bin/lingxi" serve
