#!/usr/bin/env bash
# The codec rows over N interleaved runs (issue 13): run the whole codec bench
# N times in a row (every row once per run, so a slow minute of a shared
# machine hits every row alike), then print, per message and row, the median
# of the N per-run medians, the best run, the spread (slowest / best) and the
# ratio to `tight_walk` taken within each run (median and best of the N).
# Needs jq.
#
#   bash benches/runs.sh [N=5] [measurement seconds=1]
#   CODEC_RUNS_FILTER='ccr-i' bash benches/runs.sh 5     # one message only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-5}
secs=${2:-1}
filter=${CODEC_RUNS_FILTER:-}
command -v jq >/dev/null || { echo "runs.sh: jq is required" >&2; exit 1; }
dir="${CARGO_TARGET_DIR:-target}/criterion"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Built once, then run as that binary: a `cargo bench` per run would
# rebuild when a source changes during the sitting and mix two builds.
. scripts/codec-bench-lib.sh
bin=$(codec_bench_bin)
[ -x "$bin" ] || { echo "runs.sh: no codec bench binary" >&2; exit 1; }
echo "binary: $bin" >&2
for i in $(seq 1 "$n"); do
  echo "run $i of $n..." >&2
  touch "$out/mark"
  sleep 1 # file times have a resolution; results of this run are newer
  # (From the workspace root: criterion writes to ./target/criterion, or
  # to $CARGO_TARGET_DIR/criterion, which is "$dir".)
  "$bin" --bench --warm-up-time 0.5 \
    --measurement-time "$secs" ${filter:+"$filter"} >/dev/null 2>&1
  find "$dir" -path '*/new/estimates.json' -newer "$out/mark" | while read -r f; do
    g=$(basename "$(dirname "$(dirname "$(dirname "$f")")")")
    r=$(basename "$(dirname "$(dirname "$f")")")
    case "$g" in decode_* | encode_*) ;; *) continue ;; esac
    printf '%s\t%s\t%s\t%s\n' "$i" "$g" "$r" "$(jq -r '.median.point_estimate' "$f")"
  done >>"$out/all.tsv"
done
awk -F'\t' -v n="$n" '
  function median(a, k,   i, j, t) {
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  { v[$2, $3, $1] = $4; rows[$2, $3] = 1; groups[$2] = 1 }
  END {
    ng = split("decode_ccr-i decode_cca-i decode_acr-start decode_ccr-u-large encode_ccr-i encode_cca-i encode_acr-start encode_ccr-u-large", gs, " ")
    nr = split("memcpy tight_walk bare_walk ours_parse_only ours_full_decode ours_eager_decode ours_check_validate ours_server_ccr ours_server_acr ours_parse_validate diameter_crate_decode ours_encode diameter_crate_encode", rs, " ")
    for (gi = 1; gi <= ng; gi++) {
      g = gs[gi]; if (!(g in groups)) continue
      print "#### " g " (" n " runs)"
      print ""
      print "| row | median ns | best ns | spread (slowest / best) | / tight_walk, median of runs | / tight_walk, best run |"
      print "| --- | ---: | ---: | ---: | ---: | ---: |"
      for (ri = 1; ri <= nr; ri++) {
        row = rs[ri]; if (!((g, row) in rows)) continue
        k = 0; best = 0; worst = 0; kr = 0; delete a; delete r
        for (i = 1; i <= n; i++) if ((g, row, i) in v) {
          x = v[g, row, i]; a[++k] = x
          if (!best || x < best) best = x
          if (x > worst) worst = x
          # encode groups have no tight_walk: the decode group of the message does
          t = g; sub(/^encode_/, "decode_", t)
          if ((t, "tight_walk", i) in v) r[++kr] = x / v[t, "tight_walk", i]
        }
        if (!k) continue
        rb = 0; for (i = 1; i <= kr; i++) if (!rb || r[i] < rb) rb = r[i]
        med = median(a, k)
        rm = kr ? sprintf("%.2f×", median(r, kr)) : "-"
        rbs = kr ? sprintf("%.2f×", rb) : "-"
        printf "| %s | %.1f | %.1f | %.2f× | %s | %s |\n", row, med, best, worst / best, rm, rbs
      }
      print ""
    }
  }' "$out/all.tsv"
