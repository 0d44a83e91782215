#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time and prints a table: target, runs, result.
#   scripts/fuzz.sh [seconds-per-target] [target...]    (default 60 s, every target)
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). New inputs the
# fuzzer finds go to fuzz/corpus-work/<target> (not tracked); the committed seeds in
# fuzz/corpus/<target> are only read. A crash leaves its input in fuzz/artifacts/<target>/;
# `cargo test -p madadkar-e2e --test fuzz_corpus` replays fuzz/regressions/<target>/* once the
# input is copied there with its fix.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target_dir"

echo "== cargo +nightly fuzz build (release, address sanitizer)"
cargo +nightly fuzz build
bin_dir="$target_dir/x86_64-unknown-linux-gnu/release"

declare -a rows
failed=0
for target in "${targets[@]}"; do
  mkdir -p "corpus-work/$target" "artifacts/$target" "corpus/$target"
  log="artifacts/$target/last-run.log"
  echo "== $target: ${seconds} s"
  # -timeout: an input taking over 10 s is a hang; -rss_limit_mb: over 2 GiB is a finding.
  if "$bin_dir/$target" "corpus-work/$target" "corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$log" 2>&1; then
    result="ok"
  else
    result="FAILED: $(grep -m1 -oE 'uncaught panic: .{0,120}|ERROR: libFuzzer: [a-z-]+|deadly signal' "$log" | head -1)"
    result="$result; $(grep -oE 'Test unit written to [^ ]*' "$log" | head -1)"
    failed=$((failed + 1))
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  cov=$(grep -oE '(cov|ft): [0-9]+' "$log" | tail -2 | tr '\n' ' ')
  corpus=$(find "corpus-work/$target" -type f | wc -l)
  rows+=("| $target | ${runs:-?} | ${seconds} | ${cov:-?}| $corpus | $result |")
done

echo
echo "| target | runs | seconds | coverage (last) | new corpus inputs | result |"
echo "| --- | ---: | ---: | --- | ---: | --- |"
printf '%s\n' "${rows[@]}"
if [ "$failed" -gt 0 ]; then
  echo "$failed target(s) failed; see fuzz/artifacts/<target>/last-run.log"
  exit 1
fi
