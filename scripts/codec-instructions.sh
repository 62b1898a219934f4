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
bin=$(cargo bench -p diameter-benches --bench codec --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*codec-[^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "codec-instructions: no bench binary" >&2; exit 1; }
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(bare_walk ours_parse_only ours_full_decode ours_check_validate ours_server_ccr ours_server_acr ours_parse_validate ours_encode diameter_crate_decode diameter_crate_encode)
count() { # row message runs
  CODEC_BENCH_OPS="$1:$2:$3" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per() { echo $(( ($(count "$1" "$2" 1100) - $(count "$1" "$2" 100)) / 1000 )); }
printf '%-22s' row; for m in ccr-i cca-i acr-start ccr-u-large; do printf '%18s' "$m"; done; echo
declare -A floor
printf '%-22s' tight_walk
for m in ccr-i cca-i acr-start ccr-u-large; do floor[$m]=$(per tight_walk "$m"); printf '%18s' "${floor[$m]}"; done; echo
for r in "${rows[@]}"; do
  printf '%-22s' "$r"
  for m in ccr-i cca-i acr-start ccr-u-large; do
    # the servers' CCR and ACR paths have only their own messages to read
    if [ "$r" = ours_server_ccr ] && [ "${m#ccr}" = "$m" ]; then printf '%18s' -; continue; fi
    if [ "$r" = ours_server_acr ] && [ "${m#acr}" = "$m" ]; then printf '%18s' -; continue; fi
    n=$(per "$r" "$m")
    printf '%11s %5.2fx' "$n" "$(awk -v a="$n" -v b="${floor[$m]}" 'BEGIN { print a / b }')"
  done
  echo
done
