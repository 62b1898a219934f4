#!/usr/bin/env bash
# Time, cycles, instructions and instructions per cycle (IPC) per operation
# of the codec bench rows, for machines whose counters perf cannot read (a
# VM without a PMU): instructions from callgrind (as
# scripts/codec-instructions.sh), time from the bench's count mode pinned
# to one core (best of three of (t(N) - t(N/10)) / 0.9 N, so that start-up
# cancels out), cycles from the time and the clock that the bench's `clock`
# row measures (a chain of dependent 64-bit multiplies, 3 cycles each on
# x86-64). IPC tells a row that waits on memory or branches (low) from one
# that runs at the width of the core (about 6 or more on recent cores),
# which only fewer instructions or a better placed copy can speed up.
# Count mode times the bench functions' out-of-line copies; criterion's
# copies are inlined elsewhere and can run slower (BENCHMARKS.md, "Tenth
# look"). Needs valgrind and taskset; run on a quiet machine.
#
#   bash scripts/codec-ipc.sh [row ...]
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in valgrind taskset; do
  command -v "$tool" >/dev/null || { echo "codec-ipc: $tool is not installed" >&2; exit 1; }
done
. scripts/codec-bench-lib.sh
CODEC_BENCH_BIN=$(codec_bench_bin)
bin=$CODEC_BENCH_BIN
[ -x "$bin" ] || { echo "codec-ipc: no bench binary" >&2; exit 1; }
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(tight_walk bare_walk ours_full_decode ours_check_validate ours_server_ccr ours_server_acr ours_encode)
cpu=$(( $(nproc) > 1 ? 1 : 0 ))
run() { # row message n -> ns for the whole run
  local t0 t1
  t0=$(date +%s%N)
  CODEC_BENCH_OPS="$1:$2:$3" taskset -c "$cpu" "$bin" >/dev/null
  t1=$(date +%s%N)
  echo $(( t1 - t0 ))
}
ns() { # row message n -> best of three ns per operation
  local best="" a b v
  for _ in 1 2 3; do
    a=$(run "$1" "$2" "$3"); b=$(run "$1" "$2" $(( $3 / 10 )))
    v=$(awk -v a="$a" -v b="$b" -v n="$3" 'BEGIN { printf "%.2f", (a - b) / (0.9 * n) }')
    best=$(awk -v a="$v" -v b="${best:-$v}" 'BEGIN { print (a < b) ? a : b }')
  done
  echo "$best"
}
ghz=$(awk -v t="$(ns clock ccr-i 40000)" 'BEGIN { printf "%.3f", 9000 / t }')
echo "clock: $ghz GHz (9,000-cycle multiply chain), core $cpu"
printf '%-22s %-12s %10s %8s %10s %6s\n' row message ns cycles instr IPC
for r in "${rows[@]}"; do
  for m in ccr-i cca-i acr-start ccr-u-large; do
    if [ "$r" = ours_server_ccr ] && [ "${m#ccr}" = "$m" ]; then continue; fi
    if [ "$r" = ours_server_acr ] && [ "${m#acr}" = "$m" ]; then continue; fi
    n=4000000; [ "$m" = ccr-u-large ] && n=400000
    t=$(ns "$r" "$m" "$n")
    i=$(codec_instructions "$r" "$m")
    awk -v r="$r" -v m="$m" -v t="$t" -v i="$i" -v g="$ghz" \
      'BEGIN { c = t * g; printf "%-22s %-12s %10.1f %8.0f %10d %6.2f\n", r, m, t, c, i, i / c }'
  done
done
