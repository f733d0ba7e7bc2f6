#!/usr/bin/env bash
# The product on a GPU (issue #31), in one script for the lent GPU machine, which has PyTorch, CUDA's compiler, CMake
# and ninja but no .NET and no network. test/gpu/prepare.sh makes what it needs here (.device/kit, .device/minilm);
# the device run carries those folders.
#
#   test/gpu/run.sh part1     build TorchSharp's native library against the machine's PyTorch, then: lorenza info,
#                             CPU-vs-CUDA parity (device-parity), speed and memory beside pytorch-anchor.py
#                             (device-speed), kill-and-resume (device-resume), the tiny demo from scratch
#   test/gpu/run.sh part2     on the same machine after part1: the MiniLM demo (float32 and bf16) and the ML.NET sample
#   test/gpu/run.sh check     parity, speed beside the anchor, and resume (part1 without info and the demo)
#   test/gpu/run.sh resume    kill and resume only, float32 and bf16
#   test/gpu/run.sh noisy     bench noisy-labels (issue #30) on the GPU: one process per arm side by side (the steps are
#                             launch-bound, so the card has room), each stopped after $NOISY_SECONDS (default 240) keeping
#                             the runs it finished (or stopped at NOISY_UNTIL, epoch seconds); then the merged table
#                             (noisy-labels-gpu.json/.svg)
#   test/gpu/run.sh parity speed noisy    parts can be listed; parity, anchor+speed (speed) and resume are also parts
#   test/gpu/run.sh --cpu part1 part2    the same steps on this machine's CPU with the local build (checks the script)
#
# Logs and results go to $OUT (the device tool's folder; default artifacts/gpu); the last lines are a summary.
set -uo pipefail
{ # read whole before running

MODE=cuda
PARTS=()
for arg in "$@"; do
  case "$arg" in
    --cpu) MODE=cpu ;;
    part1|part2|check|resume|parity|speed|noisy) PARTS+=("$arg") ;;
    *) echo "usage: test/gpu/run.sh [--cpu] part1|part2|check ..." >&2; exit 2 ;;
  esac
done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(part1)

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/artifacts/gpu}
mkdir -p "$OUT"
WORK=${LORENZA_GPU_WORK:-/tmp/lorenza-gpu}
mkdir -p "$WORK"
KIT=$ROOT/.device/kit
SUMMARY=$OUT/summary.txt

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME TIMEOUT COMMAND...: runs one step with a time limit, its output into $OUT/NAME.log and the console.
step() {
  local name=$1 limit=$2; shift 2
  echo; echo "=== [$(date +%T)] $name: $*"
  local start; start=$(now)
  timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  note "STEP $name exit=$rc seconds=$(since "$start")"
  return "$rc"
}

# ---- the machine: .NET, the apps and TorchSharp's native library (CUDA), or the local build (CPU) ----
setup_cuda() {
  PY=""
  for candidate in "$(command -v python3 || true)" /opt/torch/.venv/bin/python3; do
    if [ -n "$candidate" ] && "$candidate" -c 'import torch' 2>/dev/null; then PY=$candidate; break; fi
  done
  [ -n "$PY" ] || { note "FAILED: no python3 with torch"; return 4; }
  local prefix torch_lib nv_libs
  prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  torch_lib=$("$PY" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  nv_libs=$("$PY" -c 'import glob, os, torch; b = os.path.dirname(os.path.dirname(torch.__file__)); print(":".join(sorted({os.path.dirname(p) for p in glob.glob(os.path.join(b, "nvidia", "**", "lib*", "*.so*"), recursive=True)})))')
  "$PY" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))' | tee -a "$SUMMARY"

  if [ ! -x "$WORK/dotnet/dotnet" ]; then
    mkdir -p "$WORK/dotnet" && tar -xJf "$KIT"/dotnet-runtime-*.tar.xz -C "$WORK/dotnet"
  fi
  if [ -f "$KIT/apps.tar.xz" ]; then rm -rf "$WORK/apps" && tar -xJf "$KIT/apps.tar.xz" -C "$WORK"; fi
  export DOTNET_ROOT=$WORK/dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
  DOTNET=$WORK/dotnet/dotnet

  local build=$WORK/native-build lib=$WORK/native-build/LibTorchSharp/libLibTorchSharp.so
  # A library an earlier run built on the same machine image (its $OUT/libLibTorchSharp.so.xz, put in .device/prebuilt).
  if [ ! -f "$lib" ] && [ -f "$ROOT/.device/prebuilt/libLibTorchSharp.so.xz" ]; then
    mkdir -p "$(dirname "$lib")" && xz -dc "$ROOT/.device/prebuilt/libLibTorchSharp.so.xz" > "$lib"
    if LD_LIBRARY_PATH=$torch_lib${nv_libs:+:$nv_libs} "$PY" -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$lib"; then note "using the prebuilt libLibTorchSharp.so"; else rm -f "$lib"; fi
  fi
  if [ ! -f "$lib" ]; then
    local nvcc; nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    local cuda_root; cuda_root=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
    export PATH=$cuda_root/bin:$PATH TORCH_CUDA_ARCH_LIST=9.0
    step native-configure 300 cmake -S "$KIT/torchsharp-native/src/Native" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      "-DCMAKE_PREFIX_PATH=$prefix" "-DLIBTORCH_PATH=$prefix/Torch" -DTS_CXX_STD=17 -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
      "-DCMAKE_CUDA_COMPILER=$nvcc" "-DCUDAToolkit_ROOT=$cuda_root" -DCMAKE_CUDA_ARCHITECTURES=90 \
      "-DCMAKE_CUDA_FLAGS=-allow-unsupported-compiler" >/dev/null || { tail -40 "$OUT/native-configure.log"; return 2; }
    step native-build 400 ninja -C "$build" -j "$(nproc)" LibTorchSharp >/dev/null || { grep -m20 'error' "$OUT/native-build.log"; return 3; }
  fi
  for app in "$WORK"/apps/*; do cp -f "$lib" "$app/"; done
  local nvml=""
  for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu; do [ -e "$d/libnvidia-ml.so.1" ] && nvml=$d && break; done
  export LD_LIBRARY_PATH=$WORK/apps/Microsoft.ML.Lorenza.Cli:$torch_lib${nv_libs:+:$nv_libs}${nvml:+:$nvml}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  CLI=$WORK/apps/Microsoft.ML.Lorenza.Cli BENCH=$WORK/apps/Microsoft.ML.Lorenza.Benchmarks SAMPLE=$WORK/apps/SentimentAnalysis
  DEVICE=cuda
  # Results files straight into $OUT/bench, so a call stopped at its time limit still returns those written so far.
  mkdir -p "$OUT/bench" "$ROOT/artifacts" && rm -rf "$ROOT/artifacts/bench" && ln -s "$OUT/bench" "$ROOT/artifacts/bench"
  ANCHOR_ARGS=(--steps 20)
  SPEED_ARGS=(--steps 20 --warmup 3 --only "galore,galore-per-matrix,lorenza,lorenza-per-matrix,lorenza paper,sam")
  RESUME_ARGS=()
  DEMO_ARGS=()
  SAMPLE_ARGS=()
  NOISY_ARGS=()
}

setup_cpu() {
  PY=/usr/bin/python3
  DOTNET=dotnet
  CLI=$ROOT/src/Microsoft.ML.Lorenza.Cli/bin/Release/net10.0
  BENCH=$ROOT/test/Microsoft.ML.Lorenza.Benchmarks/bin/Release/net10.0
  SAMPLE=$ROOT/examples/SentimentAnalysis/bin/Release/net10.0
  DEVICE=cpu
  ANCHOR_ARGS=(--device cpu --tiny --steps 3)
  SPEED_ARGS=(--shape tiny --steps 3 --warmup 1)
  RESUME_ARGS=(--rows 400)
  DEMO_ARGS=(--max-steps 4)
  SAMPLE_ARGS=(--epochs 1)
  NOISY_ARGS=(--train 32 --dev 32 --epochs 1 --seeds 1 --noise 0.3)
}

part1() {
  step info 120 "$DOTNET" "$CLI/lorenza.dll" info
  [ "$MODE" = cuda ] && nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm --format=csv | tee -a "$SUMMARY"
  check
  step demo-tiny 120 "$DOTNET" "$CLI/lorenza.dll" demo --preset tiny --device "$DEVICE" -o "$WORK/demo-tiny" "${DEMO_ARGS[@]}"
  if [ "$MODE" = cuda ]; then xz -c "$WORK/native-build/LibTorchSharp/libLibTorchSharp.so" > "$OUT/libLibTorchSharp.so.xz"; fi
}

resume() {
  step resume 200 "$DOTNET" "$BENCH/Microsoft.ML.Lorenza.Benchmarks.dll" device-resume --device "$DEVICE" --cli "$CLI/lorenza.dll" "${RESUME_ARGS[@]}"
  step resume-bf16 200 "$DOTNET" "$BENCH/Microsoft.ML.Lorenza.Benchmarks.dll" device-resume --device "$DEVICE" --cli "$CLI/lorenza.dll" --precision bf16 "${RESUME_ARGS[@]}"
}

parity() {
  step parity 150 "$DOTNET" "$BENCH/Microsoft.ML.Lorenza.Benchmarks.dll" device-parity --device "$DEVICE"
}

speed() {
  step anchor 200 "$PY" "$ROOT/test/gpu/anchor.py" "$KIT/pytorch-anchor.py" "$OUT/pytorch-anchor.json" "${ANCHOR_ARGS[@]}"
  step speed 300 "$DOTNET" "$BENCH/Microsoft.ML.Lorenza.Benchmarks.dll" device-speed --device "$DEVICE" --anchor "$OUT/pytorch-anchor.json" "${SPEED_ARGS[@]}"
}

check() {
  parity
  speed
  step resume 200 "$DOTNET" "$BENCH/Microsoft.ML.Lorenza.Benchmarks.dll" device-resume --device "$DEVICE" --cli "$CLI/lorenza.dll" "${RESUME_ARGS[@]}"
}

noisy() {
  local data=$ROOT/.device/noisy model=$WORK/minilm-sst2 limit=${NOISY_SECONDS:-240}
  # NOISY_UNTIL (epoch seconds): stop by then, whatever the earlier parts took (the device call's limit is fixed).
  [ -n "${NOISY_UNTIL:-}" ] && limit=$(( NOISY_UNTIL - $(date +%s) ))
  [ "$limit" -gt 30 ] || { note "FAILED: no time left for noisy (${limit} s)"; return 7; }
  [ -f "$data/minilm-sst2/model.safetensors.xz" ] || { note "FAILED: $data missing (test/gpu/prepare.sh)"; return 5; }
  rm -rf "$model" && cp -r "$data/minilm-sst2" "$model" && xz -d "$model/model.safetensors.xz"
  rm -f "$ROOT"/artifacts/bench/noisy-labels-*
  local arms=("adamw" "sam" "galore" "lora" "lorenza" "lorenza momentum" "lorenza paper" "lorenza rho=0.5" "lorenza rho=5") i=0 files=()
  local start; start=$(now)
  echo; echo "=== [$(date +%T)] noisy: ${#arms[@]} processes side by side, ${limit} s each"
  for arm in "${arms[@]}"; do
    i=$((i + 1)); files+=("$ROOT/artifacts/bench/noisy-labels-$i.json")
    LORENZA_SHARED_DIR=$data OMP_NUM_THREADS=1 timeout "$limit" "$DOTNET" "$BENCH/Microsoft.ML.Lorenza.Benchmarks.dll" noisy-labels \
      --device "$DEVICE" --model "$model" --arms "$arm" --out "noisy-labels-$i" "${NOISY_ARGS[@]}" > "$OUT/noisy-$i.log" 2>&1 &
  done
  wait
  note "STEP noisy seconds=$(since "$start") runs finished: $(cat "$OUT"/noisy-*.log | grep -c '^  \[')"
  local existing=(); for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done
  [ ${#existing[@]} -gt 0 ] || { note "FAILED: no noisy-labels results"; return 6; }
  step noisy-summary 60 "$DOTNET" "$BENCH/Microsoft.ML.Lorenza.Benchmarks.dll" noisy-labels --summarize "$(IFS=,; echo "${existing[*]}")" --out noisy-labels-gpu
}

part2() {
  local minilm=$ROOT/.device/minilm
  [ -f "$minilm/model.safetensors" ] || { note "FAILED: $minilm missing (test/gpu/prepare.sh)"; return 5; }
  step demo-minilm 150 "$DOTNET" "$CLI/lorenza.dll" demo --model "$minilm" --device "$DEVICE" -o "$WORK/demo-minilm" "${DEMO_ARGS[@]}"
  step demo-minilm-bf16 150 "$DOTNET" "$CLI/lorenza.dll" demo --model "$minilm" --device "$DEVICE" --precision bf16 -o "$WORK/demo-minilm-bf16" "${DEMO_ARGS[@]}"
  step sample 240 "$DOTNET" "$SAMPLE/SentimentAnalysis.dll" --model "$minilm" --output "$WORK/sample" "${SAMPLE_ARGS[@]}"
}

: > "$SUMMARY"
START=$(now)
note "test/gpu/run.sh $MODE ${PARTS[*]} at $(date -u +%FT%TZ) on $(hostname), $(nproc) cores"
if [ "$MODE" = cuda ]; then setup_cuda || { note "setup failed"; exit 1; }; else setup_cpu; fi
for part in "${PARTS[@]}"; do "$part"; done
cp -f "$ROOT"/artifacts/bench/device-*.json "$ROOT"/artifacts/bench/noisy-labels-*.json "$ROOT"/artifacts/bench/noisy-labels-gpu.svg "$OUT/" 2>/dev/null

echo; echo "=== SUMMARY ($(since "$START") s)"
cat "$SUMMARY"
for log in "$OUT"/info.log "$OUT"/parity.log "$OUT"/speed.log "$OUT"/resume*.log "$OUT"/noisy-summary.log; do
  [ -f "$log" ] && { echo "--- $(basename "$log")"; grep -v -E '^(  round|== |results written)' "$log"; }
done
for log in "$OUT"/demo-*.log "$OUT"/sample.log; do
  [ -f "$log" ] && { echo "--- $(basename "$log")"; grep -E '^training on|LORENZA: training|^epoch [0-9]+:|validation acc|majority|test accuracy|ONNX and LORENZA|error|Exception' "$log" | tail -8; }
done
exit 0
}
