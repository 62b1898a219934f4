#!/usr/bin/env bash
# Instructions per operation of the codec bench rows (benches/benches/codec.rs),
# counted by callgrind: (count at 1100 runs - count at 100 runs) / 1000, so
# setup cancels out. The count does not move with the load of a shared
# machine, unlike time; it is a proxy (it ignores stalls and branch misses).
# Ratios are to `tight_walk`, the floor. Needs valgrind.
#
#   bash scripts/codec-instructions.sh [row ...]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "codec-instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
. scripts/codec-bench-lib.sh
CODEC_BENCH_BIN=$(codec_bench_bin)
[ -x "$CODEC_BENCH_BIN" ] || { echo "codec-instructions: no bench binary" >&2; exit 1; }
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(bare_walk ours_parse_only ours_full_decode ours_check_validate ours_server_ccr ours_server_acr ours_parse_validate ours_encode diameter_crate_decode diameter_crate_encode)
printf '%-22s' row; for m in ccr-i cca-i acr-start ccr-u-large; do printf '%18s' "$m"; done; echo
declare -A floor
printf '%-22s' tight_walk
for m in ccr-i cca-i acr-start ccr-u-large; do floor[$m]=$(codec_instructions tight_walk "$m"); printf '%18s' "${floor[$m]}"; done; echo
for r in "${rows[@]}"; do
  printf '%-22s' "$r"
  for m in ccr-i cca-i acr-start ccr-u-large; do
    # the servers' CCR and ACR paths have only their own messages to read
    if [ "$r" = ours_server_ccr ] && [ "${m#ccr}" = "$m" ]; then printf '%18s' -; continue; fi
    if [ "$r" = ours_server_acr ] && [ "${m#acr}" = "$m" ]; then printf '%18s' -; continue; fi
    n=$(codec_instructions "$r" "$m")
    printf '%11s %5.2fx' "$n" "$(awk -v a="$n" -v b="${floor[$m]}" 'BEGIN { print a / b }')"
  done
  echo
done
