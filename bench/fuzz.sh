#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer) of every fuzz target, one after the other, each for
# SECONDS_PER_TARGET (default 60) and never much longer (a hard timeout per target), then a report
# in bench/out/fuzz/report.md. A finding is written by Jazzer as a crash-* file into the target's
# Inputs directory under src/test/resources, where `./mvnw verify` replays it from then on.
#
#   bench/fuzz.sh            # 60 s per target
#   bench/fuzz.sh 300        # 5 minutes per target
#   bench/fuzz.sh 60 IngestFuzzTest,Admin   # only targets whose name contains one of the words
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-60}"
ONLY="${2:-}"
OUT=bench/out/fuzz
mkdir -p "$OUT"

TARGETS=(
  "dev.switchboard.fuzz.IngestFuzzTest#anyRequestIsAnsweredFromTheCatalogue"
  "dev.switchboard.fuzz.IngestFuzzTest#signedRequestIsStoredOnceOrRefusedFromTheCatalogue"
  "dev.switchboard.expr.ExpressionFuzzTest#compilesAndEvaluatesOrFailsWithExpressionException"
  "dev.switchboard.fuzz.ConfigLoaderFuzzTest#loadsOrNamesEveryProblem"
  "dev.switchboard.fuzz.AdminQueryFuzzTest#everyQueryIsAnsweredOrRefusedAsProblemJson"
  "dev.switchboard.fuzz.AdminQueryFuzzTest#everyActionBodyIsAnsweredOrRefusedAsProblemJson"
)

echo "compiling the tests once..."
./mvnw -o -q -B test-compile -Dswitchboard.tarball.skip=true

REPORT="$OUT/report.md"
{
  echo "# Fuzzing report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), ${SECONDS_PER_TARGET} s per target, $(./mvnw -v 2>/dev/null | grep "Java version" | cut -d, -f1), $(nproc) cores"
  echo
  echo "| target | ran (s) | executions | exec/s | corpus | findings | result |"
  echo "|---|---|---|---|---|---|---|"
} > "$REPORT"

for target in "${TARGETS[@]}"; do
  if [[ -n "$ONLY" ]]; then
    wanted=false
    for word in ${ONLY//,/ }; do
      [[ "$target" == *"$word"* ]] && wanted=true
    done
    $wanted || continue
  fi
  class="${target%#*}"
  method="${target#*#}"
  short="${class##*.}.${method}"
  inputs="src/test/resources/$(echo "${class%.*}" | tr . /)/${class##*.}Inputs/$method"
  log="$OUT/$short.log"
  before=$(ls "$inputs" 2>/dev/null | grep -c '^crash-' || true)
  echo "fuzzing $short for ${SECONDS_PER_TARGET} s (log: $log)"
  started=$(date +%s)
  # Jazzer takes JAZZER_MAX_DURATION over the annotation's maxDuration; the timeout is a backstop
  set +e
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${SECONDS_PER_TARGET}s" \
    timeout --kill-after=30 $((SECONDS_PER_TARGET + 600)) \
    ./mvnw -o -B surefire:test -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.hooks=true \
      -Dswitchboard.tarball.skip=true > "$log" 2>&1
  rc=$?
  set -e
  ran=$(( $(date +%s) - started ))
  done_line=$(grep -a -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
  runs=$(echo "$done_line" | awk '{print $2}')
  secs=$(echo "$done_line" | awk '{print $5}')
  rate=""
  if [[ -n "$runs" && -n "$secs" && "$secs" -gt 0 ]]; then rate=$(( runs / secs )); fi
  corpus=$(grep -a -o 'corp: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  after=$(ls "$inputs" 2>/dev/null | grep -c '^crash-' || true)
  findings=$((after - before))
  finding_text=$(grep -a -m1 -A2 'FuzzTestFindingException' "$log" | tail -2 | tr '\n|' '  ' | cut -c1-160 || true)
  if [[ $rc -eq 0 ]]; then result="passed"; elif [[ $rc -eq 124 || $rc -eq 137 ]]; then result="timed out"; else result="failed (exit $rc)"; fi
  [[ $findings -gt 0 ]] && result="$result: $finding_text (new: $(ls -t "$inputs" | grep '^crash-' | head -"$findings" | tr '\n' ' '))"
  echo "| $short | ${secs:-$ran} | ${runs:-?} | ${rate:-?} | ${corpus:-?} | $findings | $result |" >> "$REPORT"
done

echo >> "$REPORT"
echo "Executions are libFuzzer's count ('Done N runs'); 'ran' is its own seconds, or the wall time when it printed none. Logs beside this file." >> "$REPORT"
cat "$REPORT"
