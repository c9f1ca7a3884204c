#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU, the CUDA 13 / cuDNN 9 libraries and python3 (no .NET needed
# there). Two steps:
#   scripts/gpu-check.sh publish [DIR]   (on a machine with the .NET SDK) publishes the service self-contained
#                                        for linux-x64 into DIR (default publish/gpu-check), with this script;
#   scripts/gpu-check.sh run [DIR]       (on the GPU machine) starts the service twice, on the CUDA provider
#                                        (required: it fails at start if CUDA cannot load) and on CPU, checks
#                                        that /v1/model reports CUDAExecutionProvider with feature maps in device
#                                        memory (IOBinding; only logits come back), that the CUDA answers
#                                        equal the CPU answers (probabilities within 1e-3, same class and exit)
#                                        on the sample images, and prints latency per operating point and
#                                        throughput under GPU_CHECK_CLIENTS (16) HTTP clients for GPU_CHECK_SECONDS (5),
#                                        GPU_CHECK_ROUNDS (1) times. GPU_CHECK_ARGS is added to every service's
#                                        command line (e.g. --Model:CudnnConvAlgorithmSearch=Exhaustive). With the
#                                        Fashion-MNIST test set (copied by publish from GPU_CHECK_DATA), it also
#                                        serves GPU_CHECK_TESTSET (10,000) test images through CUDA and CPU: accuracy
#                                        per point on each and how many answers differ, each pass stopping after
#                                        GPU_CHECK_TESTSET_SECONDS (60).
# CUDA libraries from Python's nvidia-* packages are put on LD_LIBRARY_PATH automatically when found.
# GPU_CHECK_PROVIDER=Cpu rehearses the whole run on a machine without a GPU (the "CUDA" services then run the CPU
# provider with device feature memory, i.e. ONNX Runtime's allocator): it checks the script, not the GPU.
set -euo pipefail
mode="${1:-run}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "$mode" == publish ]]; then
  root="$(cd "$here/.." && pwd)"
  out="${2:-$root/publish/gpu-check}"
  dotnet publish "$root/src/ScanService.Api" -c Release -r linux-x64 --self-contained true -p:OnnxRuntimeFlavour=cuda -o "$out/app"
  cp "$here/gpu-check.sh" "$out/"
  mkdir -p "$out/samples" && cp "$root"/samples/*.png "$out/samples/"
  # The Fashion-MNIST test set (4.4 MB), for the test-set pass; skipped with a note where it is not installed.
  data="${GPU_CHECK_DATA:-/usr/share/datasets/fashion-mnist}"
  if [[ -f "$data/t10k-images-idx3-ubyte.gz" ]]; then
    mkdir -p "$out/testset" && cp "$data"/t10k-*-ubyte.gz "$out/testset/"
  else
    echo "no Fashion-MNIST test set at $data (GPU_CHECK_DATA): the run will skip the test-set pass" >&2
  fi
  echo "published to $out; copy it to the GPU machine and run: bash gpu-check.sh run"
  exit 0
fi

dir="$(cd "${2:-$here}" && pwd)"
app="$dir/app/ScanService.Api"
[[ -x "$app" ]] || { echo "gpu-check: $app not found; run 'gpu-check.sh publish' first" >&2; exit 1; }

# Python's nvidia-* wheels keep each library in its own lib folder.
if command -v python3 >/dev/null; then
  nvidia_libs=$(python3 - <<'PY' 2>/dev/null || true
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
print(":".join(sorted({p for r in roots for p in glob.glob(os.path.join(r, "nvidia", "*", "lib"))})))
PY
)
  [[ -n "$nvidia_libs" ]] && export LD_LIBRARY_PATH="$nvidia_libs:${LD_LIBRARY_PATH:-}"
fi

start() { # provider feature-memory port
  "$app" --contentRoot "$dir/app" --Model:ExecutionProvider="$1" --Model:FeatureMemory="$2" \
    --Kestrel:Endpoints:Http:Url="http://127.0.0.1:$3" --Kestrel:Endpoints:Grpc:Url="http://127.0.0.1:$(($3 + 1))" ${GPU_CHECK_ARGS:-} \
    >"$dir/service-$1-$2.log" 2>&1 &
  echo $!
}
provider="${GPU_CHECK_PROVIDER:-Cuda}"
# Under CUDA the default (Auto) must choose device memory; the rehearsal has to ask for it.
first_memory=Auto; [[ "${provider,,}" == cpu ]] && first_memory=Device
cuda_pid=$(start "$provider" "$first_memory" 18080)
cpu_pid=$(start Cpu Auto 18090)
cuda_host_pid=$(start "$provider" Host 18100)
trap 'kill $cuda_pid $cpu_pid $cuda_host_pid 2>/dev/null || true' EXIT

python3 - "$dir" "$provider" "$cuda_pid" "$cpu_pid" "$cuda_host_pid" <<'PY'
import json, sys, time, glob, os, statistics, urllib.request
root = sys.argv[1]
pids = dict(zip((18080, 18090, 18100), map(int, sys.argv[3:6])))
services = ((18080, "cuda-device"), (18100, "cuda-host"), (18090, "cpu"))  # port and label of each, as started above
def alive(pid):  # the services are the shell's children: one that exited stays a zombie until the shell reaps it
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
expected_provider = "CPUExecutionProvider" if sys.argv[2].lower() == "cpu" else "CUDAExecutionProvider"
def get(port, path):
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10))
def classify(port, data, query=""):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/classify{query}", data=data, headers={"Content-Type": "image/png"})
    return json.load(urllib.request.urlopen(req, timeout=30))
for port in (18080, 18090, 18100):
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2); break
        except Exception:
            if not alive(pids[port]):
                sys.exit(f"service on {port} exited before it was ready; see {root}/service-*.log")
            time.sleep(1)
    else:
        sys.exit(f"service on {port} never became ready; see {root}/service-*.log")
provider = get(18080, "/v1/model")["executionProvider"]
print("CUDA service provider:", json.dumps(provider))
if provider["name"] != expected_provider:
    sys.exit(f"{expected_provider} is not in use")
if provider.get("featureMemory") != "Device":
    sys.exit("feature maps are not kept on the device (featureMemory %r); the model load line in %s/service-*-Auto.log says why" % (provider.get("featureMemory"), root))
images = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(root, "samples", "*.png")))]
model = get(18090, "/v1/model")
host_memory = get(18100, "/v1/model")["executionProvider"].get("featureMemory")
if host_memory != "Host":
    sys.exit(f"the CUDA service started with Model:FeatureMemory=Host reports {host_memory!r}")
# Every class's probability (topK=10 of 10 classes), the same class and the same exit.
for port, label in ((18080, "CUDA, device feature memory"), (18100, "CUDA, host feature memory")):
    worst = 0.0
    for query in ["?fullDepth=true&topK=10", "?ensemble=true&topK=10"] + [f"?operatingPoint={p['name']}&topK=10" for p in model["operatingPoints"]]:
        for image in images:
            a, b = classify(port, image, query), classify(18090, image, query)
            if (a["classIndex"], a["exit"]) != (b["classIndex"], b["exit"]):
                sys.exit(f"{label} {query}: class {a['classIndex']} at exit {a['exit']}, CPU class {b['classIndex']} at exit {b['exit']}")
            pa = {t["classIndex"]: t["probability"] for t in a["topK"]}
            pb = {t["classIndex"]: t["probability"] for t in b["topK"]}
            worst = max(worst, max(abs(pa[c] - pb[c]) for c in pa))
    print(f"{label} vs CPU: same classes and exits; largest probability difference {worst:.2e}")
    if worst > 1e-3:
        sys.exit("difference above 1e-3")
for name in [p["name"] for p in model["operatingPoints"]] + ["fullDepth"]:
    query = "?fullDepth=true" if name == "fullDepth" else f"?operatingPoint={name}"
    for port, label in services:
        times = []
        for i in range(200):
            start = time.perf_counter(); classify(port, images[i % len(images)], query); times.append(time.perf_counter() - start)
        times.sort()
        print(f"{label:11} {name:10} p50 {times[100]*1000:6.2f} ms  p95 {times[190]*1000:6.2f} ms (HTTP round trip, batch 1)")
# The test set through the CUDA service (device feature memory) and the CPU service, every point and full depth:
# accuracy per point on each, and how many answers differ (class or exit). GPU_CHECK_TESTSET images (all 10,000 by
# default; 0 skips), 16 client threads, each image sent as a PNG.
import gzip, struct, zlib
from concurrent.futures import ThreadPoolExecutor
def png(width, height, pixels):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
testset = os.path.join(root, "testset")
wanted = int(os.environ.get("GPU_CHECK_TESTSET", "10000"))
# Each point's pass through each service stops sending after this long, so that a slow service (as CUDA was before
# the fixed batch: tens of images a second) cannot use up a lent machine's time; the line says how many were answered.
pass_seconds = float(os.environ.get("GPU_CHECK_TESTSET_SECONDS", "60"))
if wanted > 0 and os.path.exists(os.path.join(testset, "t10k-images-idx3-ubyte.gz")):
    raw = gzip.open(os.path.join(testset, "t10k-images-idx3-ubyte.gz")).read()
    count, rows, cols = struct.unpack(">III", raw[4:16])
    labels = gzip.open(os.path.join(testset, "t10k-labels-idx1-ubyte.gz")).read()[8:]
    count = min(count, wanted)
    pngs = [png(cols, rows, raw[16 + i * rows * cols:16 + (i + 1) * rows * cols]) for i in range(count)]
    for name in ["fullDepth"] + [p["name"] for p in model["operatingPoints"]]:
        query = "?fullDepth=true" if name == "fullDepth" else f"?operatingPoint={name}"
        answers = {}
        with ThreadPoolExecutor(16) as pool:
            for port in (18080, 18090):
                deadline = time.perf_counter() + pass_seconds
                answers[port] = list(pool.map(lambda image: classify(port, image, query) if time.perf_counter() < deadline else None, pngs))
        both = [i for i in range(count) if answers[18080][i] is not None and answers[18090][i] is not None]
        if not both:
            print(f"test set {name:10} no image answered by both services within {pass_seconds:g} s each")
            continue
        correct = {port: sum(answers[port][i]["classIndex"] == labels[i] for i in both) for port in answers}
        differ = sum((answers[18080][i]["classIndex"], answers[18080][i]["exit"]) != (answers[18090][i]["classIndex"], answers[18090][i]["exit"]) for i in both)
        mean_exit = sum(answers[18080][i]["exit"] for i in both) / len(both)
        cut = "" if len(both) == count else f" (time limit: {len(both)} of {count} answered by both within {pass_seconds:g} s each)"
        print(f"test set {name:10} {len(both)} images: CUDA {correct[18080] / len(both):.2%}, CPU {correct[18090] / len(both):.2%}, "
              f"{differ} answers differ (class or exit), mean exit {mean_exit:.2f} on CUDA{cut}")
elif wanted > 0:
    print(f"no test set in {testset}: test-set pass skipped")
# Throughput under load: CLIENTS closed-loop HTTP clients (threads of this script) for SECONDS per point and service.
# The client is Python, so where it saturates first the figure is the client's ceiling, not the service's.
import threading
clients, seconds = int(os.environ.get("GPU_CHECK_CLIENTS", "16")), float(os.environ.get("GPU_CHECK_SECONDS", "5"))
for round, name in [(r + 1, n) for r in range(int(os.environ.get("GPU_CHECK_ROUNDS", "1"))) for n in ["fullDepth"] + [p["name"] for p in model["operatingPoints"]]]:
    query = "?fullDepth=true" if name == "fullDepth" else f"?operatingPoint={name}"
    for port, label in services:
        counts, stop = [0] * clients, time.perf_counter() + seconds
        def client(k):
            i = k
            while time.perf_counter() < stop:
                classify(port, images[i % len(images)], query); counts[k] += 1; i += clients
        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        began = time.perf_counter()
        for t in threads: t.start()
        for t in threads: t.join()
        print(f"{label:11} {name:10} {sum(counts) / (time.perf_counter() - began):8.0f} images/s ({clients} HTTP clients, {seconds:.0f} s, round {round})")
# Device memory each service holds after the load (ONNX Runtime's arena keeps what it grew to), where nvidia-smi is.
import shutil, subprocess
if shutil.which("nvidia-smi"):
    apps = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
    used = {int(pid): int(mib) for pid, mib in (line.split(",") for line in apps.strip().splitlines() if line.strip())}
    for port, label in services:
        mib = used.get(pids[port])
        print(f"{label:11} device memory " + (f"{mib} MiB (nvidia-smi, after the load)" if mib is not None else "not listed by nvidia-smi"))
PY
