#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET SDK, and nothing when it is already there:
#  - a libstdc++ with GLIBCXX_3.4.32 (TorchSharp 0.107's native library needs GCC 13+);
#    on Debian 12 it comes from Debian 13 ("trixie") pinned at low priority, so nothing else upgrades;
#  - the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist);
#  - Prometheus and promtool (Debian package prometheus): the metrics tests scrape the service with a real one.
# Where it cannot install (not root, not Debian), it says exactly what is missing and exits non-zero.
set -euo pipefail

DATASET_DIR=/usr/share/datasets/fashion-mnist
missing=()

has_glibcxx_3_4_32() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    if [[ -e "$lib" ]] && grep -aq 'GLIBCXX_3.4.32' "$lib"; then return 0; fi
  done
  return 1
}
has_dataset() {
  [[ -f "$DATASET_DIR/train-images-idx3-ubyte.gz" && -f "$DATASET_DIR/t10k-labels-idx1-ubyte.gz" ]]
}

has_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
}

has_glibcxx_3_4_32 || missing+=("libstdc++ with GLIBCXX_3.4.32 (GCC 13 or newer)")
has_dataset || missing+=("Fashion-MNIST IDX files in $DATASET_DIR (Debian package dataset-fashion-mnist)")
has_prometheus || missing+=("prometheus and promtool (Debian package prometheus)")

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "prerequisites: all present"
  exit 0
fi

if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]]; then
  echo "prerequisites missing and this script can only install them as root on Debian:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() { if [[ $apt_updated -eq 0 ]]; then apt-get update -qq; apt_updated=1; fi; }

if ! has_glibcxx_3_4_32; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [[ "$codename" == "bookworm" ]]; then
    echo "prerequisites: adding Debian 13 (trixie) at pin priority 100 for libstdc++6"
    cat > /etc/apt/sources.list.d/scanservice-trixie.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat > /etc/apt/preferences.d/scanservice-trixie <<PIN
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    apt_updated=0
    apt_update
    apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  else
    echo "prerequisites: this Debian ($codename) lacks GLIBCXX_3.4.32; install a libstdc++6 from GCC 13 or newer" >&2
    exit 1
  fi
  has_glibcxx_3_4_32 || { echo "prerequisites: libstdc++6 installed but GLIBCXX_3.4.32 still missing" >&2; exit 1; }
fi

if ! has_dataset; then
  echo "prerequisites: installing dataset-fashion-mnist"
  apt_update
  apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
if ! has_prometheus; then
  echo "prerequisites: installing prometheus"
  apt_update
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The tests start their own Prometheus on a free loopback port; the package's system service is not wanted.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
echo "prerequisites: installed"
