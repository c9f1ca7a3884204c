#!/usr/bin/env bash
# Trains the three runs behind the default model (SCAN, the plain baseline, the ablation without attention modules)
# with one recipe, one after the other, into training-runs/. Each run resumes from its checkpoint when its folder
# already holds one, so the script can be started again after any interruption, on this machine or on a fresh clone
# (the folder is tracked until the run is exported). Needs what training needs: scripts/install-test-prereqs.sh.
#   bash scripts/train-default-model.sh            # all three, in order
#   bash scripts/train-default-model.sh scan       # one of: scan, baseline, no-attention, scan-nearest
# scan-nearest is SCAN with the cheaper attention form (--attention-upsampling Nearest); it is not part of "all".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export TORCH_CPP_LOG_LEVEL="${TORCH_CPP_LOG_LEVEL:-ERROR}" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# One recipe for all three runs: only the network differs.
recipe=(--arch resnet18 --width 16 --epochs 30 --seed 42 --batch-size 128 --lr 0.1 --schedule cosine)

# Run from a private copy of the build, so that rebuilding the repository does not replace assemblies under a
# training process that may still load them.
bin="${SCAN_TRAIN_BIN:-$(mktemp -d)/scan-train}"
if [[ ! -f "$bin/scan-train.dll" ]]; then
  dotnet build src/ScanService.Training -c Release -o "$bin" >/dev/null
fi

train() {
  local name="$1"; shift
  local run="training-runs/fashion-mnist-$name"
  if [[ -f "$run/run.json" ]]; then
    echo "== $run: resuming"
    dotnet "$bin/scan-train.dll" train --run "$run" --resume
  else
    echo "== $run: starting"
    dotnet "$bin/scan-train.dll" train --run "$run" "${recipe[@]}" "$@"
  fi
}

which="${1:-all}"
[[ "$which" == all || "$which" == scan ]] && train scan
[[ "$which" == all || "$which" == baseline ]] && train baseline --baseline
[[ "$which" == all || "$which" == no-attention ]] && train no-attention --no-attention
[[ "$which" == scan-nearest ]] && train scan-nearest --attention-upsampling Nearest
echo "done"
