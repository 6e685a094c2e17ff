#!/usr/bin/env bash
# Uploads N synthetic one-minute bars (default 10,000,000, about 450 MB of CSV) to a fresh
# `backtester serve` on SQLite and prints the upload's wall time and the server's peak memory
# (VmHWM) before and after: the upload is validated as it streams in, so the peak stays far
# below the file's size.
#
# Needs a release build (`cargo build --release`). Run from anywhere: benches/peers/upload.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bars="${1:-10000000}"
target="${CARGO_TARGET_DIR:-target}/release"
scratch="$(mktemp -d)"
file="$scratch/bars.csv"
"$target/examples/synthetic_csv" "$bars" > "$file"
"$target/backtester" serve --bind 127.0.0.1:0 --database-url "sqlite://$scratch/db.sqlite" > "$scratch/out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 100); do grep -q listening "$scratch/out" && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.:]*' "$scratch/out")"
peak() { grep VmHWM "/proc/$server/status" | awk '{print $2}'; }
echo "$bars bars, $(du -m "$file" | cut -f1) MB of CSV; server peak before: $(peak) KB"
start=$(date +%s.%N)
curl -sS -o "$scratch/answer" -w "HTTP %{http_code}\n" -X POST -H 'Content-Type: text/csv' \
    -T "$file" "$url/api/datasets?symbol=X"
end=$(date +%s.%N)
echo "upload and validation: $(echo "$end - $start" | bc) s; server peak after: $(peak) KB"
head -c 300 "$scratch/answer"; echo
