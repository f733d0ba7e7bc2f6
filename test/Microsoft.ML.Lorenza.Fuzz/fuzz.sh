#!/usr/bin/env bash
# Fuzzes the readers of outside bytes with AFL++ through SharpFuzz (called by `./build.sh fuzz`).
#
#   fuzz.sh [all|list|TARGET...] [--minutes N] [--jobs J]   (default: all, 10 minutes per target, J = 1 at a time)
#
# Publishes this project to artifacts/fuzz/bin, instruments Microsoft.ML.Lorenza.Core.dll there (the readers live in
# it), and runs afl-fuzz on each target from its seed corpus in corpus/<target>. Findings go to
# artifacts/fuzz/findings/<target> (crashes/, hangs/); a table of executions, paths found, crashes and hangs per target
# is printed and written to artifacts/fuzz/results.tsv. A crash or hang input becomes a regression file under
# regressions/<target>/ that FuzzRegressionTests replays in the default test run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/artifacts/fuzz
MINUTES=10
JOBS=1
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --minutes=*) MINUTES=${1#--minutes=}; shift ;;
    --jobs) JOBS=$2; shift 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(all)

log() { printf '[fuzz] %s\n' "$*"; }

if ! command -v afl-fuzz >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing afl++ (apt)"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
(cd "$ROOT" && dotnet tool restore >/dev/null)

log "publishing the fuzz targets to $OUT/bin and instrumenting Microsoft.ML.Lorenza.Core.dll"
rm -rf "$OUT/bin"
dotnet publish "$HERE" -c Release -o "$OUT/bin" --nologo -v quiet -clp:ErrorsOnly
FUZZ=("dotnet" "$OUT/bin/Microsoft.ML.Lorenza.Fuzz.dll")
mapfile -t KNOWN < <("${FUZZ[@]}" list) # before instrumenting: instrumented code runs only under the fork server
(cd "$ROOT" && dotnet tool run sharpfuzz "$OUT/bin/Microsoft.ML.Lorenza.Core.dll")
if [ "${TARGETS[0]}" = list ]; then printf '%s\n' "${KNOWN[@]}"; exit 0; fi
[ "${TARGETS[0]}" = all ] && TARGETS=("${KNOWN[@]}")
for t in "${TARGETS[@]}"; do
  printf '%s\n' "${KNOWN[@]}" | grep -qx -- "$t" || { echo "unknown target '$t'; known: ${KNOWN[*]}" >&2; exit 2; }
done

export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
RESULTS=$OUT/results.tsv
printf 'target\tminutes\texecutions\texecs_per_s\tpaths\tcrashes\thangs\n' > "$RESULTS"

fuzz_one() {
  local t=$1 findings=$OUT/findings/$1
  rm -rf "$findings"; mkdir -p "$OUT/findings"
  log "$t: $MINUTES min"
  # -t: the child starts .NET and makes the seed files before its first input; 5 s per input is a hang.
  if ! afl-fuzz -i "$HERE/corpus/$t" -o "$findings" -t 5000 -m none -V $((MINUTES * 60)) -- "${FUZZ[@]}" "$t" > "$findings.log" 2>&1; then
    log "$t: afl-fuzz failed (last lines of $findings.log):"; tail -n 15 "$findings.log"; return 1
  fi
  local stats=$findings/default/fuzzer_stats
  value() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$MINUTES" "$(value execs_done)" "$(value execs_per_sec)" "$(value corpus_count)" \
    "$(value saved_crashes)" "$(value saved_hangs)" >> "$RESULTS"
  for kind in crash hang; do
    for input in "$findings"/default/${kind/crash/crashe}s/id:*; do
      [ -e "$input" ] || continue
      mkdir -p "$HERE/regressions/$t"
      cp "$input" "$HERE/regressions/$t/$kind-$(sha256sum "$input" | cut -c1-12)"
      log "$t: a $kind input copied to regressions/$t (replayed by FuzzCorpusTests)"
    done
  done
}

failed=0
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || failed=1; done
  fuzz_one "$t" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=1; done
column -t -s $'\t' "$RESULTS"
log "results in $RESULTS"
exit $failed
