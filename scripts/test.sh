#!/usr/bin/env bash
# The test command: installs what the tests need beyond the .NET SDK (once), builds the solution, runs every
# test project and the Node.js gRPC client against the real service. `.ci/run` calls exactly this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-test-prereqs.sh

# libtorch prints one NNPACK warning per convolution on CPUs it does not support; they are noise in test logs.
export TORCH_CPP_LOG_LEVEL="${TORCH_CPP_LOG_LEVEL:-ERROR}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build ScanService.sln -c Debug
# Benchmarks print figures for people to read; they are not pass/fail and stay out of the suite.
dotnet test ScanService.sln -c Debug --no-build --filter "Category!=Benchmark" --logger "console;verbosity=minimal"
CONFIGURATION=Debug bash tests/node-client/run.sh
echo "all tests passed"
