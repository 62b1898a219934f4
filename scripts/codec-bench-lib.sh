# Shared by the scripts that drive the codec bench binary
# (benches/benches/codec.rs) outside criterion: sourced, not run.
#
#   codec_bench_bin            build the bench once (no run) and print the
#                              path of its binary
#   codec_instructions ROW MSG instructions per operation of ROW on MSG in
#                              count mode (CODEC_BENCH_OPS), by callgrind:
#                              (count at 1100 runs - count at 100) / 1000,
#                              so that setup cancels out; needs valgrind
#                              and $CODEC_BENCH_BIN set

codec_bench_bin() {
  cargo bench -p diameter-benches --bench codec --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*codec-[^"]*\)".*/\1/p' | tail -1
}

codec_callgrind_count() { # row message runs
  CODEC_BENCH_OPS="$1:$2:$3" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$CODEC_BENCH_BIN" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

codec_instructions() { # row message
  local a b
  a=$(codec_callgrind_count "$1" "$2" 1100)
  b=$(codec_callgrind_count "$1" "$2" 100)
  [ -n "$a" ] && [ -n "$b" ] || { echo "no callgrind count for $1 on $2" >&2; return 1; }
  echo $(( (a - b) / 1000 ))
}
