#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-fuzz (libFuzzer) on nightly.
#
#   bash scripts/fuzz.sh smoke            # build all targets, run each 30 s (CI)
#   bash scripts/fuzz.sh run TARGET SECS  # one target, longer campaign
#   bash scripts/fuzz.sh campaign SECS    # every target for SECS, two at a time
#
# Targets (see FUZZING.md): decode_message, roundtrip_structured,
# framing_stream, peer_machine, cc_sessions, typed_messages, and endpoint
# (a client and a server Endpoint joined by a fuzz-driven transport).
#
# The committed corpus under fuzz/corpus/TARGET is used as seeds, read-only;
# new inputs go to a scratch directory (fuzz/target/corpus-work/TARGET).
# Crashes land in fuzz/artifacts/TARGET and fail the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

rustup toolchain list | grep -q '^nightly' \
  || die "the nightly toolchain is required for cargo-fuzz (rustup toolchain install nightly)"
if ! command -v cargo-fuzz >/dev/null; then
  echo "installing cargo-fuzz (once)"
  cargo install cargo-fuzz --locked --quiet || die "cannot install cargo-fuzz"
fi

targets=$(cargo +nightly fuzz list)
[ -n "$targets" ] || die "no fuzz targets"
# Every target of FUZZING.md must be there (a target dropped from
# fuzz/Cargo.toml would otherwise vanish from CI silently).
for t in decode_message roundtrip_structured framing_stream peer_machine cc_sessions \
  typed_messages endpoint; do
  grep -qx "$t" <<<"$targets" || die "fuzz target $t is missing from fuzz/Cargo.toml"
done

run_one() { # target seconds
  local t=$1 secs=$2 work=target/corpus-work/$1
  mkdir -p "$work" "corpus/$t"
  local log=target/fuzz-$t.log
  if ! cargo +nightly fuzz run "$t" "$work" "corpus/$t" -- \
      -max_total_time="$secs" -dict=dict/diameter.dict -print_final_stats=1 \
      -rss_limit_mb=2048 -timeout=10 > "$log" 2>&1; then
    grep -E -A3 'panicked|ERROR: libFuzzer|SUMMARY|^error' "$log" | head -20 >&2
    grep -E '^artifact_prefix|Test unit written' "$log" >&2 || true
    die "fuzz target $t found a problem (see fuzz/artifacts/$t)"
  fi
  local execs cov ft
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  printf '%-22s %6ss  execs %-10s cov %-6s ft %s\n' "$t" "$secs" "$execs" "$cov" "$ft"
}

case "${1:-smoke}" in
  smoke)
    cargo +nightly fuzz build -O >/dev/null 2>&1 || cargo +nightly fuzz build -O
    for t in $targets; do run_one "$t" "${SMOKE_SECS:-30}"; done ;;
  run) run_one "$2" "${3:-60}" ;;
  campaign)
    secs=${2:-1800}
    cargo +nightly fuzz build -O
    set -- $targets
    while [ $# -gt 0 ]; do
      run_one "$1" "$secs" &
      p1=$!
      p2=
      if [ $# -gt 1 ]; then run_one "$2" "$secs" & p2=$!; fi
      wait $p1; [ -z "$p2" ] || wait $p2
      shift; [ $# -gt 0 ] && shift
    done ;;
  *) die "usage: fuzz.sh smoke | run TARGET SECS | campaign SECS" ;;
esac
