#!/usr/bin/env bash
# Time from process start to the first 200 on /v2/health/ready, and the idle working set (VmRSS) right after,
# for the Release build of the service on the committed bundle and the CPU provider. Prints one line per start.
#   scripts/startup-check.sh [STARTS]      (default 5; builds Release first)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
starts="${1:-5}"
dotnet build "$root/src/ScanService.Api" -c Release -v quiet -nologo >/dev/null
dll="$root/src/ScanService.Api/bin/Release/net10.0/ScanService.Api.dll"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for i in $(seq 1 "$starts"); do
  t0=$(date +%s%N)
  dotnet "$dll" --contentRoot "$root/src/ScanService.Api" --Model:ExecutionProvider=Cpu \
    --Kestrel:Endpoints:Http:Url="http://127.0.0.1:$port" --Kestrel:Endpoints:Grpc:Url="http://127.0.0.1:$((port + 1))" >"$log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready"; do
    kill -0 "$pid" 2>/dev/null || { echo "the service exited before it was ready:" >&2; cat "$log" >&2; exit 1; }
    (( ($(date +%s%N) - t0) / 1000000000 < 60 )) || { echo "not ready after 60 s" >&2; kill "$pid"; exit 1; }
    sleep 0.02
  done
  t1=$(date +%s%N)
  rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  printf 'start %d: ready after %.2f s; idle working set %d MB\n' "$i" "$(echo "($t1 - $t0) / 1000000000" | bc -l)" $((rss_kb / 1024))
  kill -TERM "$pid"; wait "$pid" || true
done
