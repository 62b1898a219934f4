#!/usr/bin/env bash
# A profile-guided build of the codec bench (issue 13: release settings for
# users of the crates). Builds the bench instrumented, trains it on the four
# messages (in count mode: the floor, every decode, validate and encode row
# of ours, the two server rows; then once through criterion), merges the
# profile with the llvm-profdata of rustc's own LLVM (rustup's llvm-tools,
# added if missing), and builds the bench again with it. Prints the
# environment that selects that build, for benches/runs.sh or
# scripts/codec-instructions.sh:
#
#   eval "$(bash benches/pgo.sh lto)" && bash benches/runs.sh 5 1
#
# `lto` adds the recommended profile (fat LTO, one codegen unit) to both
# builds. A user does the same with their own traffic as the training run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
lto=${1:-}
name=pgo${lto:+-$lto}
base=${CARGO_TARGET_DIR:-target}
env=()
if [ "$lto" = lto ]; then
  env=(CARGO_PROFILE_BENCH_LTO=fat CARGO_PROFILE_BENCH_CODEGEN_UNITS=1)
elif [ -n "$lto" ]; then
  echo "pgo.sh: the only option is 'lto', not '$lto'" >&2
  exit 1
fi
sysroot=$(rustc --print sysroot)
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  echo "pgo.sh: adding rustup's llvm-tools (llvm-profdata of rustc's LLVM)" >&2
  rustup component add llvm-tools >&2
fi
raw="$base/$name-profile"
rm -rf "$raw"
mkdir -p "$raw"
raw=$(cd "$raw" && pwd)
build() { # target dir, RUSTFLAGS -> the bench binary
  env "${env[@]}" CARGO_TARGET_DIR="$1" RUSTFLAGS="$2" \
    cargo bench -q -p diameter-benches --bench codec --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*codec-[^"]*\)".*/\1/p' | tail -1
}
built() { # binary, what
  [ -x "$1" ] && return
  echo "pgo.sh: the $2 build failed (see: cargo bench -p diameter-benches --bench codec --no-run)" >&2
  exit 1
}
echo "pgo.sh: instrumented build" >&2
bin=$(build "$base/$name-gen" "-Cprofile-generate=$raw") || true
built "$bin" instrumented
echo "pgo.sh: training ($bin)" >&2
for row in tight_walk ours_parse_only ours_parse_validate ours_check_validate ours_full_decode ours_encode; do
  for msg in ccr-i cca-i acr-start ccr-u-large; do
    CODEC_BENCH_OPS="$row:$msg:20000" "$bin" >/dev/null
  done
done
for msg in ccr-i ccr-u-large; do
  CODEC_BENCH_OPS="ours_server_ccr:$msg:20000" "$bin" >/dev/null
done
CODEC_BENCH_OPS="ours_server_acr:acr-start:20000" "$bin" >/dev/null
# And every row the way criterion calls it: the bench functions are inlined
# into each caller, and a caller the training never ran is built as cold
# code (the full decode measured 1.5x slower in criterion than in count
# mode when only the count mode was trained).
CARGO_TARGET_DIR="$base/$name-gen" "$bin" --bench --warm-up-time 0.2 --measurement-time 0.3 >/dev/null 2>&1 ||
  { echo "pgo.sh: the criterion training run failed" >&2; exit 1; }
"$profdata" merge -o "$base/$name.profdata" "$raw"
profile=$(cd "$base" && pwd)/$name.profdata
flags="-Cprofile-use=$profile"
echo "pgo.sh: build with the profile" >&2
# Afresh, so that a new profile is never left out by a build cargo deems fresh.
rm -rf "$base/$name-use"
bin=$(build "$base/$name-use" "$flags") || true
built "$bin" profile-guided
echo "pgo.sh: $bin" >&2
printf 'export CARGO_TARGET_DIR=%q RUSTFLAGS=%q' "$(cd "$base" && pwd)/$name-use" "$flags"
for e in "${env[@]}"; do printf ' %q' "$e"; done
echo
