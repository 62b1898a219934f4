#!/usr/bin/env bash
# Footprint of the diameter-embassy firmware (transport-embassy/firmware,
# opt-level = "z", LTO, one codegen unit, panic = "abort"), the numbers of
# BENCHMARKS.md "diameter-embassy on a Cortex-M3":
#
#   1. flash (.text + .rodata) and static RAM (.data + .bss) of the
#      client-only build (codec, peer, endpoint, prepaid client, the
#      diameter-embassy runner, one embassy-net stack) and of the full
#      firmware (that plus the charging server, a second stack and the
#      bench-message round trip);
#   2. flash by crate: every code and read-only data symbol (`nm -S`),
#      demangled, charged to the first crate its path names (with LTO a
#      function inlined into another is charged to the caller's crate;
#      bytes no symbol covers are listed as "(no symbol)"); and, not
#      fooled by inlining, the code of diameter-core and diameter-cc by
#      source: every .text halfword whose DWARF inline chain has a frame
#      in their sources (the firmware keeps debug info), plus their named
#      read-only data;
#   3. RAM: the statics by name, and the stack used by the prepaid call,
#      which the firmware measures itself by painting the stack before each
#      task's poll and reading it back (its output is printed);
#   4. it fails if the client-only build (diameter-cc with the prepaid
#      session kind only) links the server sessions, the postpaid or the
#      accounting client, or the CCR/ACR decoders.
#
#   bash scripts/embassy-footprint.sh            # both builds
#   TARGET=thumbv7em-none-eabihf bash scripts/embassy-footprint.sh
#
# Needs binutils (nm, size, addr2line) and qemu-system-arm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../transport-embassy/firmware"
target=${TARGET:-thumbv7m-none-eabi}
for tool in nm size addr2line; do
  command -v $tool >/dev/null || { echo "embassy-footprint: $tool missing (apt-get install binutils)" >&2; exit 1; }
done

sections() { # elf -> ".text .rodata .data .bss"
  size -A "$1" | awk '$1==".text"{t=$2} $1==".rodata"{r=$2} $1==".data"{d=$2} $1==".bss"{b=$2}
    END { printf "%d %d %d %d\n", t, r, d, b }'
}

by_crate() { # elf text rodata
  nm -C -S -t d --size-sort "$1" | awk -v total=$(( $2 + $3 )) '
    $3 ~ /^[tTrR]$/ {
      size = $2 + 0; $1 = $2 = $3 = ""; name = substr($0, 4)
      sub(/^</, "", name); sub(/^&/, "", name); sub(/^\(/, "", name)
      crate = "(no crate path: anonymous constants, intrinsics, vectors)"
      if (match(name, /^[A-Za-z_][A-Za-z0-9_]*::/)) crate = substr(name, 1, RLENGTH - 2)
      else if (name ~ /^__aeabi|^__u?div|^__mul|^__clz|^compiler_builtins/) crate = "compiler_builtins"
      else if (name ~ /^mem(cpy|set|move|cmp)$|^__aeabi_mem/) crate = "compiler_builtins"
      sum[crate] += size; seen += size
    }
    END {
      sum["(no symbol)"] = total - seen
      for (c in sum) printf "%8d  %5.1f%%  %s\n", sum[c], 100 * sum[c] / total, c
    }' | sort -rn
}

ours_by_source() { # elf -> "code rodata": code from diameter-core/-cc source, their named .rodata
  # Every halfword of .text is looked up in the DWARF line tables with its
  # inline chain (addr2line -i): it counts when any frame of the chain is
  # in diameter-core or diameter-cc source, wherever LTO inlined it (so
  # code inlined into the runner or the firmware still counts, and code
  # of other crates inlined into ours too). Read-only data: the symbols
  # with a diameter_core or diameter_cc path (anonymous constants and
  # strings have no owner and are left out).
  local start size code rodata
  read -r start size < <(size -A "$1" | awk '$1==".text" { print $3, $2 }')
  code=$(awk -v s="$start" -v n="$size" 'BEGIN { for (a = s; a < s + n; a += 2) printf "0x%x\n", a }' \
    | addr2line -a -i -e "$1" \
    | awk '/^0x/ { if (hit) ours += 2; hit = 0; next }
           /\/(diameter-core|diameter-cc)\/src\// { hit = 1 }
           END { if (hit) ours += 2; print ours + 0 }')
  rodata=$(nm -C -S -t d "$1" | awk '$3 ~ /^[rR]$/ && $4 ~ /^diameter_(core|cc)::/ { s += $2 } END { print s + 0 }')
  echo "$code $rodata"
}

report() { # label features...
  local label=$1; shift
  cargo build --release --quiet --target "$target" "$@"
  local elf=target/$target/release/diameter-embassy-firmware
  read -r t r d b < <(sections "$elf")
  printf '\n== %s (%s) ==\n' "$label" "$target"
  printf 'flash %d (.text %d + .rodata %d), static RAM %d (.data %d + .bss %d)\n' \
    $(( t + r )) "$t" "$r" $(( d + b )) "$d" "$b"
  printf -- '-- flash by crate (bytes, share, crate) --\n'
  by_crate "$elf" "$t" "$r"
  local ours
  ours=$(by_crate "$elf" "$t" "$r" | awk '$3 ~ /^diameter_(core|cc)$/ { s += $1 } END { print s + 0 }')
  printf 'codec + peer + endpoint + sessions (diameter_core + diameter_cc): %d bytes = %.1f KiB (goal with the prepaid client: 48 KiB)\n' \
    "$ours" "$(awk -v o="$ours" 'BEGIN { print o / 1024 }')"
  local code rodata
  read -r code rodata < <(ours_by_source "$elf")
  local verdict=""
  case $label in client*) # the goal is the client's
    verdict=$([ $(( code + rodata )) -le 49152 ] && echo " (within 48 KiB)" || echo " (over 48 KiB)") ;;
  esac
  printf 'the same by source (DWARF inline chains): code %d + named .rodata %d = %d bytes = %.1f KiB%s\n' \
    "$code" "$rodata" $(( code + rodata )) "$(awk -v o=$(( code + rodata )) 'BEGIN { print o / 1024 }')" "$verdict"
  printf -- '-- static RAM by symbol (.data/.bss, bytes) --\n'
  nm -C -S -t d --size-sort "$elf" | awk '$3 ~ /^[bBdD]$/ { s = $2 + 0; $1 = $2 = $3 = ""; printf "%8d  %s\n", s, substr($0, 4) }' | sort -rn | head -12
  printf -- '-- the firmware in QEMU --\n'
  cargo run --release --quiet --target "$target" "$@" 2>/dev/null
}

report "client only: codec, peer, endpoint, prepaid client, runner, one embassy-net stack" --no-default-features --features client-only
# The session-kind features at work: nothing of the server side, the
# postpaid or the accounting client may be linked into the client-only
# build.
linked=$(nm -C "target/$target/release/diameter-embassy-firmware" \
  | grep -E '^[0-9a-f]+ [tTrR] <?diameter_cc::(server::|client::(postpaid|accounting)::|msg::(ccr::Ccr|acr::Acr)::decode)' || true)
if [ -n "$linked" ]; then
  printf '%s\n' "$linked" | head >&2
  echo "embassy-footprint: the client-only build links session kinds it does not use (above)" >&2
  exit 1
fi
report "full firmware: client and charging server, two stacks, bench messages"
