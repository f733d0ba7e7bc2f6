#!/usr/bin/env bash
# One entry point for developers and CI (Linux).
#
#   ./build.sh            install what is missing, build everything, run the main job (`lorenza demo`)
#   ./build.sh test       install what is missing, build, run every test; ends with "N passed, N failed, N skipped"
#   ./build.sh build      install what is missing and build only
#   ./build.sh bench ...  run benchmarks (names, `all` or `list`; see test/Microsoft.ML.Lorenza.Benchmarks)
#   ./build.sh fuzz ...   AFL++ on every reader of outside bytes: [all|list|TARGET...] [--minutes N] [--jobs J] (10 min per target, J at once; see
#                         test/Microsoft.ML.Lorenza.Fuzz/fuzz.sh); installs afl++ (apt) and SharpFuzz (dotnet tool) when missing
#   ./build.sh publish    self-contained `lorenza` for linux-x64 (CPU libtorch included) in artifacts/publish
#   ./build.sh pack       NuGet packages in artifacts/packages: Microsoft.ML.Lorenza, Microsoft.ML.Lorenza.Core and the
#                         `lorenza` .NET tool (Microsoft.ML.Lorenza.Cli + one package per platform: linux-x64, win-x64,
#                         osx-arm64; LORENZA_TOOL_RIDS=linux-x64 for fewer). VersionSuffix=preview.1 for a pre-release.
#
# The product needs only the .NET SDK: TorchSharp and libtorch come from NuGet. Installing needs root (or
# sudo) the first time, for the independent references the tests and benchmarks compare against: apt
# packages python3-torch and python3-onnx (Debian's PyTorch 1.13 and onnx.checker) with
# libopenblas0-pthread (its BLAS; without it PyTorch falls back to reference BLAS, ~20x slower), patchelf
# (the libstdc++ test runs an app under a newer glibc), python3-sentencepiece (the Unigram tokenizer reference),
# node and npm (the gpt3-encoder and Hugging Face tokenizers references under test/js), and what Python's huggingface_hub
# needs to run from its source (python3-httpx, -filelock, -tqdm, -packaging, -fsspec, -yaml, -typing-extensions: the hub
# cache interoperability tests; the source itself goes to ../hfhub/<version>/src, see README). Each step is skipped
# quietly when already done.
set -euo pipefail
CALLER_DIR=$(pwd)
cd "$(dirname "$0")"
ROOT=$(pwd)
CONFIG=${CONFIG:-Release}
VERB=${1:-run}
[ $# -gt 0 ] && shift

log() { printf '[build] %s\n' "$*"; }

# ---- dependencies ------------------------------------------------------------------------------
APT_PACKAGES=(python3-torch python3-onnx python3-sentencepiece libopenblas0-pthread patchelf nodejs npm
  python3-httpx python3-filelock python3-tqdm python3-packaging python3-fsspec python3-yaml python3-typing-extensions)

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # node/npm may come from elsewhere than Debian (e.g. a preinstalled Node): then skip those.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    local kept=()
    for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || kept+=("$p"); done
    missing=("${kept[@]}")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing ${missing[*]} (apt)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_npm_tools() {
  for dir in test/js/*/; do
    [ -f "$dir/package-lock.json" ] || continue
    [ -d "$dir/node_modules" ] && [ "$dir/node_modules" -nt "$dir/package-lock.json" ] && continue
    log "npm ci in $dir"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  done
}

# ---- ML.NET layer: built only where the Microsoft.ML package can be restored ---------------------
SOLUTION=Microsoft.ML.Lorenza.sln
choose_solution() {
  # The ML.NET tests: they restore the package's floor (the library compiles against it) and MicrosoftMLVersion (the tests
  # run on it), so both must be served.
  local mlnet=test/Microsoft.ML.Lorenza.Tests/Microsoft.ML.Lorenza.Tests.csproj
  [ -f "$mlnet" ] || return 0
  if dotnet restore "$mlnet" --verbosity quiet >/dev/null 2>&1; then
    SOLUTION=Microsoft.ML.Lorenza.sln
    # NuGet takes the next version when the wanted one is not served (NU1603): say so rather than build another silently.
    local resolved
    resolved=$(grep -o '"Microsoft.ML/[0-9][^"]*"' test/Microsoft.ML.Lorenza.Tests/obj/project.assets.json 2>/dev/null | head -n 1 | sed 's|.*/||; s|"||')
    if [ -n "${MicrosoftMLVersion:-}" ] && [ -n "$resolved" ] && [ "$resolved" != "$MicrosoftMLVersion" ]; then
      log "Microsoft.ML $MicrosoftMLVersion is not served here: NuGet restored $resolved, so the ML.NET layer builds and tests against $resolved."
    fi
  else
    log "Microsoft.ML cannot be restored here: skipping the ML.NET layer, its tests and samples (building Microsoft.ML.Lorenza.Engine.slnf)."
    SOLUTION=Microsoft.ML.Lorenza.Engine.slnf
  fi
}

build() {
  install_apt_packages
  install_npm_tools
  choose_solution
  log "dotnet build $SOLUTION ($CONFIG)"
  dotnet build "$SOLUTION" -c "$CONFIG" --nologo -v quiet -clp:ErrorsOnly
}

# Runs the CLI from the caller's directory, so relative paths (data, -o) mean what they say there.
lorenza() {
  (cd "$CALLER_DIR" && dotnet "$ROOT/src/Microsoft.ML.Lorenza.Cli/bin/$CONFIG/net10.0/lorenza.dll" "$@")
}

run_tests() {
  local log_file
  log_file=$(mktemp)
  local status=0
  # The VSTest runner prints one "Passed!/Failed! - Failed: F, Passed: P, Skipped: S" line per test project.
  dotnet test "$SOLUTION" -c "$CONFIG" --no-build --nologo --settings test/lorenza.runsettings \
    2>&1 | tee "$log_file" || status=$?
  local passed failed skipped
  passed=$(grep -oE 'Passed: +[0-9]+' "$log_file" | awk '{s+=$2} END {print s+0}')
  failed=$(grep -oE 'Failed: +[0-9]+' "$log_file" | awk '{s+=$2} END {print s+0}')
  skipped=$(grep -oE 'Skipped: +[0-9]+' "$log_file" | awk '{s+=$2} END {print s+0}')
  rm -f "$log_file"
  if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then status=1; fi
  echo "$passed passed, $failed failed, $skipped skipped"
  return "$status"
}

case "$VERB" in
  run)
    build
    lorenza info
    if lorenza demo --help >/dev/null 2>&1; then lorenza demo "$@"; fi
    ;;
  build) build ;;
  test)
    build
    run_tests
    ;;
  bench)
    build
    dotnet "test/Microsoft.ML.Lorenza.Benchmarks/bin/$CONFIG/net10.0/Microsoft.ML.Lorenza.Benchmarks.dll" "$@"
    ;;
  lorenza)
    lorenza "$@"
    ;;
  fuzz)
    build
    test/Microsoft.ML.Lorenza.Fuzz/fuzz.sh "$@"
    ;;
  publish)
    build
    dotnet publish src/Microsoft.ML.Lorenza.Cli -c "$CONFIG" -r linux-x64 --self-contained -o artifacts/publish --nologo -v quiet
    log "self-contained lorenza in artifacts/publish (run artifacts/publish/lorenza)"
    ;;
  pack)
    # Only projects with IsPackable=true pack (the three under src/); Microsoft.ML.Lorenza only where Microsoft.ML restores.
    choose_solution
    rids=${LORENZA_TOOL_RIDS:-linux-x64;win-x64;osx-arm64}
    log "dotnet pack $SOLUTION ($CONFIG; tool platforms: $rids)"
    dotnet pack "$SOLUTION" -c "$CONFIG" --nologo -v quiet -clp:ErrorsOnly "-p:LorenzaToolRuntimeIdentifiers=\"$rids\""
    log "packages in artifacts/packages:"
    ls -l artifacts/packages/*.nupkg | awk '{printf "[build]   %12d  %s\n", $5, $NF}'
    ;;
  *)
    echo "usage: ./build.sh [run|build|test|bench ...|fuzz ...|lorenza ...|publish|pack]" >&2
    exit 2
    ;;
esac
