#!/usr/bin/env bash
# Instructions per prepaid call in the two rows of benches/benches/session.rs,
# counted by callgrind: (count at 1200 calls - count at 200 calls) / 1000,
# so setup cancels out. Unlike time on a shared machine, the count does not
# move from run to run. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "session-instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
bin=$(cargo bench -p diameter-benches --bench session --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*session-[^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "session-instructions: no bench binary" >&2; exit 1; }
count() { # row calls
  SESSION_BENCH_CALLS="$1:$2" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A per
for row in machines endpoints; do
  a=$(count $row 200); b=$(count $row 1200)
  per[$row]=$(( (b - a) / 1000 ))
  printf '%-10s %8d instructions per call\n' "$row" "${per[$row]}"
done
awk -v m="${per[machines]}" -v e="${per[endpoints]}" 'BEGIN { printf "endpoints / machines: %.3f\n", e / m }'
