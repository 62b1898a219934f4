#!/usr/bin/env bash
# The project's test command: installs what the tests need on a fresh Debian
# machine with rustup, then runs every check. `.ci/run` calls this script.
#
#   bash scripts/test.sh            # everything
#   QUICK=1 bash scripts/test.sh    # skip the fuzz smoke run
#
# A check that cannot run (no root for apt, a missing tool) fails loudly:
# nothing is skipped silently.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
shared="$root/../shared"

t_start=$(date +%s)
t_step=$t_start
# Each step says how long the one before it took, so a slow step shows.
step() {
  local now
  now=$(date +%s)
  [ "$now" = "$t_start" ] || printf '    (%s s; %s s in all)\n' "$((now - t_step))" "$((now - t_start))"
  t_step=$now
  printf '\n==> %s\n' "$*"
}
die() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

step "toolchain: thumbv7em target, clippy, rustfmt"
command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
rustup target add thumbv7em-none-eabihf >/dev/null
rustup component add clippy rustfmt >/dev/null

step "build dependencies: libssl-dev, pkg-config (the diameter crate baseline in benches/ links OpenSSL), ca-certificates (a CLI TLS test loads the system CA bundle), valgrind (instruction counts of scripts/codec-ipc.sh)"
need=()
for p in libssl-dev pkg-config ca-certificates valgrind; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need[*]}: run 'sudo apt-get install ${need[*]}' first"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi

step "peers: tshark + freeDiameter (../shared/peers/install.sh)"
[ -f "$shared/peers/install.sh" ] || die "missing $shared/peers (the shared/ folder must sit beside this checkout)"
if ! command -v tshark >/dev/null || ! command -v freeDiameterd >/dev/null; then
  [ "$(id -u)" = 0 ] || die "tshark/freeDiameter are missing and installing them needs root: run 'sudo bash ../shared/peers/install.sh' first"
fi
if [ "$(id -u)" = 0 ]; then bash "$shared/peers/install.sh"; fi
command -v tshark >/dev/null || die "tshark still missing after install.sh"

step "rustfmt"
cargo fmt --all -- --check || die "cargo fmt --all -- --check: run 'cargo fmt --all'"

step "clippy -D warnings (workspace, all targets)"
cargo clippy --workspace --all-targets -- -D warnings
step "clippy -D warnings (diameter-tokio alone, without its tls feature: the workspace build has it on through diameter-cli)"
cargo clippy -p diameter-tokio --all-targets -- -D warnings

step "cargo test (workspace: unit, integration, property, tshark, no-alloc, doc tests)"
cargo test --workspace 2>&1 | tee target/test-output.txt
grep -q "test result: FAILED" target/test-output.txt && die "some tests failed"

step "cargo test -p diameter-tokio --features tls --lib --test tls (TLS at connect, rcgen certificates; also in the workspace run, where diameter-cli turns tls on)"
cargo test -p diameter-tokio --features tls --lib --test tls 2>&1 | tee target/test-output-tls.txt
grep -q "test result: FAILED" target/test-output-tls.txt && die "some tests failed (diameter-tokio, tls)"

step "clippy -D warnings: diameter-cli with its PostgreSQL backend (feature postgres)"
cargo clippy -p diameter-cli --features postgres --all-targets -- -D warnings

step "PostgreSQL: a throw-away cluster, two diameter serve on it, 1,000 concurrent prepaid calls never overdraw (scripts/postgres-test.sh)"
bash scripts/postgres-test.sh

step "rustdoc -D warnings (every public item documented, no broken links)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "no-alloc firmware build: #![no_std] #![no_main] thumbv7em-none-eabihf, no global allocator"
(cd firmware-check && cargo build --release --quiet)
step "no-alloc firmware build with defmt"
(cd firmware-check && cargo build --release --quiet --features defmt)

step "diameter-embassy: nothing that needs std in its dependency tree; defmt only behind its feature"
tree=$(cargo tree -p diameter-embassy -e normal --prefix none -f '{p} [{f}]')
if grep -E '[[,](std|alloc)[],]|^(std|alloc|libc|tokio|mio|socket2|futures-executor|embassy-net-tuntap) ' <<<"$tree"; then
  die "diameter-embassy's normal dependency tree has the std/alloc users above (cargo tree -p diameter-embassy -e normal -f '{p} [{f}]')"
fi
grep -q '^defmt ' <<<"$tree" && die "defmt is in diameter-embassy's tree without the defmt feature"
cargo tree -p diameter-embassy -e normal --prefix none --features defmt | grep -q '^defmt ' \
  || die "the defmt feature of diameter-embassy does not bring defmt"
cargo tree --workspace -e normal,dev,build --prefix none | grep -q '^defmt ' \
  && die "defmt is enabled in the workspace's host build (host tests must not log with defmt)"

step "diameter-embassy for thumbv7em-none-eabihf (no std: anything needing it fails to build), with and without defmt"
cargo build -p diameter-embassy --target thumbv7em-none-eabihf --quiet
cargo build -p diameter-embassy --target thumbv7em-none-eabihf --no-default-features --features medium-ip,defmt --quiet

step "session-kind features (prepaid, postpaid, accounting, server; all in default): each alone and none, clippy -D warnings"
for kinds in "" prepaid postpaid accounting server; do
  cargo clippy -p diameter-cc --no-default-features --features "$kinds" --quiet -- -D warnings \
    || die "diameter-cc with only the features [$kinds] (cargo clippy -p diameter-cc --no-default-features --features '$kinds')"
  cargo clippy -p diameter-embassy --target thumbv7em-none-eabihf --no-default-features --features "medium-ip,$kinds" --quiet -- -D warnings \
    || die "diameter-embassy with only the features [medium-ip,$kinds]"
done

step "diameter-embassy firmware in QEMU (Cortex-M3, mps2-an385): bench messages round trip and the prepaid call, exit status checked"
rustup target add thumbv7m-none-eabi >/dev/null
if ! command -v qemu-system-arm >/dev/null; then
  [ "$(id -u)" = 0 ] || die "qemu-system-arm is missing: run 'sudo apt-get install qemu-system-arm' first"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq qemu-system-arm >/dev/null
fi
command -v qemu-system-arm >/dev/null || die "qemu-system-arm still missing after apt-get"
(cd transport-embassy/firmware && cargo fmt -- --check && cargo clippy --release --quiet -- -D warnings \
  && cargo clippy --release --quiet --no-default-features --features client-only -- -D warnings) || die "firmware: rustfmt or clippy"
(cd transport-embassy/firmware && cargo build --release --quiet) || die "firmware build"
if ! (cd transport-embassy/firmware && timeout 300 cargo run --release --quiet) 2>&1 | tee target/firmware-qemu.txt; then
  die "the firmware in QEMU failed or exited with a non-zero status (see above)"
fi
grep -q '^RESULT PASS$' target/firmware-qemu.txt || die "the firmware did not print RESULT PASS"
step "diameter-embassy firmware on a Cortex-M4F too (thumbv7em-none-eabihf, QEMU mps2-an386)"
(cd transport-embassy/firmware && timeout 300 cargo run --release --quiet --target thumbv7em-none-eabihf) >/dev/null \
  || die "the firmware on mps2-an386 failed (cd transport-embassy/firmware && cargo run --release --target thumbv7em-none-eabihf)"
step "diameter-embassy footprint (numbers of BENCHMARKS.md, scripts/embassy-footprint.sh; fails if the client-only build links a session kind it does not use)"
timeout 600 bash scripts/embassy-footprint.sh || die "scripts/embassy-footprint.sh failed"

step "diameter-embassy over a real kernel link (#[ignore]d tests: TAP device in a test-made network namespace, freeDiameter and the diameter-tokio server, tshark)"
[ "$(id -u)" = 0 ] || die "the TAP tests need root (a network namespace and a TAP device): run scripts/test.sh as root"
if ! cargo test -p diameter-embassy -- --ignored 2>&1 | tee target/tap-output.txt; then
  die "the diameter-embassy TAP tests failed (cargo test -p diameter-embassy -- --ignored)"
fi
grep -qE "test result: ok\. [1-9][0-9]* passed" target/tap-output.txt || die "the diameter-embassy TAP tests did not run"

step "benches compile (run them with: cargo bench -p diameter-benches)"
cargo bench -p diameter-benches --no-run --quiet
step "codec bench count mode runs every row once (numbers: scripts/codec-instructions.sh)"
for row in tight_walk bare_walk ours_parse_only ours_check_validate ours_parse_validate ours_full_decode ours_server_ccr ours_encode; do
  CODEC_BENCH_OPS=$row:ccr-u-large:1 cargo bench -p diameter-benches --bench codec --quiet >/dev/null
done
CODEC_BENCH_OPS=ours_server_acr:acr-start:1 cargo bench -p diameter-benches --bench codec --quiet >/dev/null
step "scripts/codec-ipc.sh measures the floor row (clock, time, cycles, instructions, IPC; numbers: BENCHMARKS.md, Tenth look)"
bash scripts/codec-ipc.sh tight_walk || die "scripts/codec-ipc.sh failed"
step "profile-guided codec bench (benches/pgo.sh: instrumented build, training, build with the profile) runs a row"
rustup component add llvm-tools >/dev/null
pgo_env=$(bash benches/pgo.sh) || die "benches/pgo.sh failed"
(
  eval "$pgo_env"
  CODEC_BENCH_OPS=ours_server_ccr:ccr-i:1 cargo bench -p diameter-benches --bench codec --quiet >/dev/null
) || die "the profile-guided codec bench failed"
step "session bench rows run (100 calls each, their asserts checked; numbers: scripts/session-instructions.sh)"
for row in machines endpoints; do
  SESSION_BENCH_CALLS=$row:100 cargo bench -p diameter-benches --bench session --quiet
done
step "transport bench rows run (every row briefly, freeDiameter included; numbers: cargo bench -p diameter-benches --bench transport)"
command -v freeDiameterd >/dev/null || die "freeDiameterd missing: the transport bench needs it (bash ../shared/peers/install.sh)"
TRANSPORT_BENCH=smoke cargo bench -p diameter-benches --bench transport --quiet \
  || die "the transport bench (TRANSPORT_BENCH=smoke) failed"

if [ -z "${QUICK:-}" ]; then
  step "fuzz smoke run: every target 15 s (scripts/fuzz.sh; longer campaigns: bash scripts/fuzz.sh run)"
  SMOKE_SECS=15 bash scripts/fuzz.sh smoke

  step "Miri: diameter-core unit tests (checks the ASCII fast path's unsafe block)"
  rustup toolchain list | grep -q '^nightly' || die "nightly toolchain missing (needed for Miri and cargo-fuzz)"
  rustup +nightly component add miri rust-src >/dev/null
  (cd diameter-core && cargo +nightly miri test --lib -q 2>&1 | tail -3)
fi

step "done"
printf '\nALL CHECKS PASSED in %s s\n' "$(( $(date +%s) - t_start ))"
