#!/bin/bash
# Checks that a refactor left training's arithmetic alone: trains the same small run with two built checkouts
# (./build.sh build in each) for every optimizer setting below and compares the saved weights byte for byte.
#
#   test/tools/same-weights.sh <checkout A> <checkout B> [work folder]
#
# Prints one line per setting ("same" or "DIFFERENT") and exits non-zero if any differ. CPU, seed 7, ~2 minutes.
set -u
a=$(cd "$1" && pwd); b=$(cd "$2" && pwd); work=${3:-$(mktemp -d)}
mkdir -p "$work"
head -161 "$a/src/Microsoft.ML.Lorenza.Cli/SampleData/reviews.tsv" > "$work/train.tsv"
settings=(
  "lorenza" "lorenza --ascent momentum" "lorenza --refresh-interval 3 --refresh-tolerance 0.9"
  "lorenza --word-embeddings low-rank --grad-clip 0.5 --rho 0.1 --zo-queries 2"
  "lorenza --word-embeddings frozen --reset-moments-on-refresh --refresh-interval 2 --oversampling 2 --power-iterations 1"
  "adazosam" "galore --refresh-interval 3" "galore --word-embeddings low-rank --refresh-interval 2" "sam" "adamw" "lora"
)
weights() { # checkout, setting, folder -> hash of the saved weights
  dotnet "$1/src/Microsoft.ML.Lorenza.Cli/bin/Release/net10.0/lorenza.dll" train "$work/train.tsv" -o "$3" --optimizer $2 \
    --epochs 2 --batch-size 16 --max-length 32 --seed 7 --device cpu --weight-decay 0.01 > "$3.log" 2>&1 \
    && sha256sum "$3/model.safetensors" | cut -c1-16
}
status=0
for setting in "${settings[@]}"; do
  name=$(echo "$setting" | tr ' ' '_')
  ha=$(weights "$a" "$setting" "$work/a_$name") || { echo "FAILED with $a: $setting (see $work/a_$name.log)"; status=1; continue; }
  hb=$(weights "$b" "$setting" "$work/b_$name") || { echo "FAILED with $b: $setting (see $work/b_$name.log)"; status=1; continue; }
  if [ "$ha" = "$hb" ]; then echo "same       $ha  $setting"; else echo "DIFFERENT  $ha $hb  $setting"; status=1; fi
done
exit $status
