#!/usr/bin/env bash
# Runs the Node.js gRPC client against the service, the way a non-.NET client would meet it:
#  1. installs the client's packages when node_modules is missing (from package-lock.json);
#  2. starts the built service (build it first) on free loopback ports with the CPU provider: REST on an
#     HTTP/1.1+2 endpoint, gRPC on an HTTP/2-only one (cleartext HTTP/2 needs its own endpoint), and waits
#     for /v2/health/ready;
#  3. runs classify-stream.js against it, with any arguments given here (e.g. a folder of PNGs);
#  4. stops the service and exits with the script's status.
# CONFIGURATION (default Debug) picks the build output; READY_TIMEOUT (seconds, default 120) bounds the wait.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
configuration="${CONFIGURATION:-Debug}"
app_dir="$root/src/ScanService.Api/bin/$configuration/net10.0"
ready_timeout="${READY_TIMEOUT:-120}"

if [[ ! -f "$app_dir/ScanService.Api.dll" ]]; then
  echo "run.sh: $app_dir/ScanService.Api.dll not found; build first (dotnet build src/ScanService.Api -c $configuration)" >&2
  exit 1
fi

if [[ ! -d "$here/node_modules" ]]; then
  if [[ -f "$here/package-lock.json" ]]; then
    (cd "$here" && npm ci --no-audit --no-fund)
  else
    (cd "$here" && npm install --no-audit --no-fund)
  fi
fi

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
http_port="$(free_port)"
grpc_port="$(free_port)"
while [[ "$grpc_port" == "$http_port" ]]; do grpc_port="$(free_port)"; done

log="$(mktemp -t scanservice-node-client.XXXXXX.log)"
# Kestrel endpoints from configuration take precedence over --urls, so the ports are set on the endpoints themselves.
Model__ExecutionProvider=Cpu dotnet "$app_dir/ScanService.Api.dll" --contentRoot "$app_dir" \
  --Kestrel:Endpoints:Http:Url="http://127.0.0.1:$http_port" \
  --Kestrel:Endpoints:Grpc:Url="http://127.0.0.1:$grpc_port" \
  --Kestrel:Endpoints:Grpc:Protocols=Http2 \
  >"$log" 2>&1 &
service_pid=$!

stop_service() {
  if kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap stop_service EXIT

ready_url="http://127.0.0.1:$http_port/v2/health/ready"
deadline=$((SECONDS + ready_timeout))
until curl -fsS -o /dev/null --max-time 2 "$ready_url" 2>/dev/null; do
  if ! kill -0 "$service_pid" 2>/dev/null; then
    echo "run.sh: the service exited before it was ready; its output:" >&2
    cat "$log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "run.sh: $ready_url not ready after ${ready_timeout}s; the service's output:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done

status=0
node "$here/classify-stream.js" "127.0.0.1:$grpc_port" "$@" || status=$?
exit "$status"
