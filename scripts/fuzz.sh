#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target for SECONDS, starting from Fuzz/corpus/TARGET, then
# merges what it learnt back into that corpus (minimised: only inputs that add coverage).
# A crash is written to Fuzz/crashes/TARGET/ and fails the run; commit it once it is fixed,
# and `make test` replays it for good (Tests/TrackerFuzzingTests).
# Usage: fuzz.sh FUZZER SECONDS TARGET...
set -euo pipefail
fuzzer=$1 seconds=$2
shift 2
cd "$(dirname "$0")/.."
failed=0
for target in "$@"; do
  corpus=Fuzz/corpus/$target crashes=Fuzz/crashes/$target
  mkdir -p "$corpus" "$crashes"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  before=$(ls "$corpus" | wc -l)
  echo "== fuzz $target for ${seconds}s (corpus: $before inputs)"
  # -max_len: a receiver line is at most 1 KB, a configuration a few KB; 16 KB covers both.
  if ! TRACKERD_FUZZ_TARGET=$target "$fuzzer" "$work" "$corpus" -max_total_time="$seconds" -max_len=16384 \
       -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$crashes/" -print_final_stats=1 >"$work.log" 2>&1; then
    failed=1
    grep -E "ERROR|SUMMARY|Fatal error|Test unit written" "$work.log" | head -20 || tail -20 "$work.log"
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$work.log" | sed "s/^/  $target /" || true
  TRACKERD_FUZZ_TARGET=$target "$fuzzer" -merge=1 "$corpus" "$work" >"$work.merge.log" 2>&1 || true
  echo "  $target corpus: $before -> $(ls "$corpus" | wc -l) inputs"
  rm -rf "$work" "$work.log" "$work.merge.log"
done
if [ "$failed" != 0 ]; then echo "make fuzz: a target crashed; the input is in Fuzz/crashes/"; exit 1; fi
echo "make fuzz: no crash"
