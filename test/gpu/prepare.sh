#!/usr/bin/env bash
# Prepares what test/gpu/run.sh needs on the GPU machine, which has no .NET and no network, in ignored folders of the
# checkout that the device run carries (64 MiB per call at most):
#   .device/kit/     the .NET runtime (tar.xz), the three apps as framework-dependent publishes without libtorch
#                    (apps.tar.xz: lorenza CLI, benchmarks, the SentimentAnalysis sample), TorchSharp's native source
#                    (built there against the machine's PyTorch) and pytorch-anchor.py, from ../shared/gpu-kit
#   .device/minilm/  all-MiniLM-L6-v2 as a Hugging Face folder with float16 weights (45 MB; the float32 one is 87 MB,
#                    more than a call carries beside the kit), for part 2
#   .device/noisy/   for `noisy`: the SST-2 rows of bench noisy-labels and that MiniLM with the embedding rows those texts
#                    never use zeroed (xz, 24 MB), so it travels with the kit in one call
# usage: test/gpu/prepare.sh            (after ./build.sh build; needs ../shared/gpu-kit)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
KIT_SRC=${LORENZA_SHARED_DIR:-$ROOT/../shared}/gpu-kit
[ -d "$KIT_SRC" ] || { echo "error: $KIT_SRC not found (../shared/gpu-kit holds TorchSharp's native source and the PyTorch anchor)" >&2; exit 2; }
KIT=$ROOT/.device/kit
rm -rf "$KIT" && mkdir -p "$KIT"

# The .NET runtime: host + Microsoft.NETCore.App, no SDK.
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(ls "$dotnet_root/shared/Microsoft.NETCore.App" | sort -V | tail -1)
tar -C "$dotnet_root" -cJf "$KIT/dotnet-runtime-$runtime.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$runtime"

# The apps, framework-dependent; TorchSharp-cpu's libtorch removed (the GPU machine's CUDA libtorch is used there).
publish=$(mktemp -d)
trap 'rm -rf "$publish"' EXIT
for project in src/Microsoft.ML.Lorenza.Cli test/Microsoft.ML.Lorenza.Benchmarks examples/SentimentAnalysis; do
  name=$(basename "$project")
  dotnet publish "$project" -c Release -o "$publish/apps/$name" --nologo -v quiet -clp:ErrorsOnly
  rm -f "$publish/apps/$name"/runtimes/linux-x64/native/lib{torch,c10,gomp,LibTorchSharp,shm,aoti,backend,jitbackend,nnapi,torchbind}* \
        "$publish/apps/$name"/runtimes/linux-x64/native/*.dbg
done
tar -C "$publish" -cJf "$KIT/apps.tar.xz" apps
cp -r "$KIT_SRC/torchsharp-native" "$KIT/torchsharp-native"
cp "$KIT_SRC/pytorch-anchor.py" "$KIT/"
chmod -R u+w "$KIT"

# MiniLM with float16 weights (the loader casts them to the model's float32).
MINILM=$ROOT/.device/minilm
if [ ! -f "$MINILM/model.safetensors" ]; then
  dotnet src/Microsoft.ML.Lorenza.Cli/bin/Release/net10.0/lorenza.dll pretrained get minilm >/dev/null
  source=$(ls -d "${LORENZA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lorenza}"/pretrained/minilm-* | head -1)
  rm -rf "$MINILM" && mkdir -p "$MINILM"
  cp "$source"/{config.json,vocab.txt,tokenizer_config.json} "$MINILM/"
  /usr/bin/python3 "$ROOT/test/gpu/to_float16.py" "$source/model.safetensors" "$MINILM/model.safetensors"
fi
# For `run.sh noisy` (bench noisy-labels on the GPU): the SST-2 rows it reads, and MiniLM (float16) with the word-embedding
# rows those texts never use zeroed, xz-compressed (24 MB: the kit and it fit one call; the model computes the same on them).
NOISY=$ROOT/.device/noisy
SST2=${LORENZA_SHARED_DIR:-$ROOT/../shared}/data/sst2
rm -rf "$NOISY" && mkdir -p "$NOISY/data/sst2" "$NOISY/minilm-sst2"
head -1001 "$SST2/train.tsv" > "$NOISY/data/sst2/train.tsv"
cp "$SST2/dev.tsv" "$NOISY/data/sst2/dev.tsv"
cp "$MINILM"/{config.json,vocab.txt,tokenizer_config.json} "$NOISY/minilm-sst2/"
/usr/bin/python3 "$ROOT/test/gpu/zero_unused_rows.py" "$MINILM/model.safetensors" "$MINILM/vocab.txt" "$NOISY/minilm-sst2/model.safetensors" \
  "$NOISY/data/sst2/train.tsv" "$NOISY/data/sst2/dev.tsv"
xz -T0 -9 "$NOISY/minilm-sst2/model.safetensors"
chmod -R u+w "$NOISY"
du -sh "$KIT" "$KIT"/* "$MINILM" "$NOISY"
