#!/usr/bin/env bash
# Print the BENCHMARKS.md tables (ns/iter and ratios) from the last run of
#   cargo bench -p diameter-benches --bench codec -- --warm-up-time 1 --measurement-time 3
# Reads criterion's estimates (median point estimate) under
# ${CARGO_TARGET_DIR:-<workspace>/target}/criterion. Needs jq.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${CARGO_TARGET_DIR:-target}/criterion"
[ -d "$dir" ] || { echo "no criterion results in $dir: run the benchmark first" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }

# ns of one row: median, with its 95% confidence interval
ns() { jq -r '.median.point_estimate' "$dir/$1/$2/new/estimates.json"; }
ci() {
  jq -r '"\(.median.confidence_interval.lower_bound|.*10|round/10)–\(.median.confidence_interval.upper_bound|.*10|round/10)"' \
    "$dir/$1/$2/new/estimates.json"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

for msg in ccr-i cca-i acr-start ccr-u-large; do
  bytes=$(python3 -c "print(len(open('../shared/bench-msgs/$msg.hex').read().strip())//2)" 2>/dev/null ||
    echo "?")
  echo "### $msg ($bytes bytes)"
  echo
  echo "| row | ns/iter (median) | 95% CI | vs memcpy |"
  echo "| --- | ---: | ---: | ---: |"
  for dirn in decode encode; do
    g="${dirn}_${msg}"
    mem=$(ns "$g" memcpy)
    for row in memcpy bare_walk ours_parse_only ours_parse_validate ours_full_decode \
      ours_eager_decode diameter_crate_decode ours_encode diameter_crate_encode; do
      [ -f "$dir/$g/$row/new/estimates.json" ] || continue
      v=$(ns "$g" "$row")
      printf '| %s/%s | %.1f | %s | %sx |\n' "$dirn" "$row" "$v" "$(ci "$g" "$row")" "$(ratio "$v" "$mem")"
    done
  done
  d="decode_${msg}"
  e="encode_${msg}"
  full=$(ns "$d" ours_full_decode)
  echo
  echo "- ours_full_decode / bare_walk = $(ratio "$full" "$(ns "$d" bare_walk)")"
  echo "- ours_parse_only / bare_walk = $(ratio "$(ns "$d" ours_parse_only)" "$(ns "$d" bare_walk)")"
  echo "- ours_eager_decode / bare_walk = $(ratio "$(ns "$d" ours_eager_decode)" "$(ns "$d" bare_walk)")"
  echo "- diameter_crate_decode / ours_full_decode = $(ratio "$(ns "$d" diameter_crate_decode)" "$full")"
  echo "- diameter_crate_decode / bare_walk = $(ratio "$(ns "$d" diameter_crate_decode)" "$(ns "$d" bare_walk)")"
  echo "- diameter_crate_encode / ours_encode = $(ratio "$(ns "$e" diameter_crate_encode)" "$(ns "$e" ours_encode)")"
  echo "- ours_full_decode / memcpy = $(ratio "$full" "$(ns "$d" memcpy)")," \
    "ours_encode / memcpy = $(ratio "$(ns "$e" ours_encode)" "$(ns "$e" memcpy)")"
  echo
done
