#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET SDK, and nothing when it is already there:
#  - a libstdc++ with GLIBCXX_3.4.32 (TorchSharp 0.107's native library needs GCC 13+);
#    on Debian 12 it comes from Debian 13 ("trixie") pinned at low priority, so nothing else upgrades;
#  - the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist);
#  - DejaVu Sans (Debian package fonts-dejavu-core): the trainer's figures are drawn with it (SkiaSharp's Linux build
#    lists no system fonts, so the font file is loaded by path);
#  - Prometheus and promtool (Debian package prometheus): the metrics tests scrape the service with a real one, and
#    the alert rules' unit tests run in promtool;
#  - kubectl with kustomize v5 (Debian package kubernetes-client): the tests build every kustomization in deploy/.
#    Debian 12's own is kubectl 1.20, whose kustomize (v2.0.3) predates the labels and patches fields, so on
#    Debian 12 it comes from Debian 13 like libstdc++6.
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

has_font() {
  [[ -n "$(find /usr/share/fonts /usr/local/share/fonts -name DejaVuSans.ttf -print -quit 2>/dev/null)" ]]
}

has_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
}

has_kubectl() {
  command -v kubectl >/dev/null 2>&1 && kubectl version --client 2>/dev/null | grep -Eq '^Kustomize Version: v([5-9]|[1-9][0-9])\.'
}

has_glibcxx_3_4_32 || missing+=("libstdc++ with GLIBCXX_3.4.32 (GCC 13 or newer)")
has_dataset || missing+=("Fashion-MNIST IDX files in $DATASET_DIR (Debian package dataset-fashion-mnist)")
has_font || missing+=("DejaVu Sans for the trainer's figures (Debian package fonts-dejavu-core)")
has_prometheus || missing+=("prometheus and promtool (Debian package prometheus)")
has_kubectl || missing+=("kubectl with kustomize v5 or newer (Debian package kubernetes-client from Debian 13; Debian 12's 1.20 is too old)")

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

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

# Debian 13 as an apt source pinned at priority 100: packages come from it only when asked for with -t trixie.
# The Debian archive this machine already installs from (its own sources name it; the security archive aside).
debian_archive() {
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security' | awk '{print $2}' | head -n 1)
  if [[ -z "$uri" ]]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v -- '-security' | awk '{print $2}' | head -n 1)
  fi
  if [[ -z "$uri" ]]; then
    echo "prerequisites: no Debian archive found in /etc/apt/sources.list*; add one, then run this again" >&2
    exit 1
  fi
  echo "$uri"
}

add_trixie_source() {
  if [[ -f /etc/apt/sources.list.d/scanservice-trixie.sources && -f /etc/apt/preferences.d/scanservice-trixie ]]; then return 0; fi
  local archive
  archive=$(debian_archive)
  echo "prerequisites: adding Debian 13 (trixie) from $archive at pin priority 100"
  cat > /etc/apt/sources.list.d/scanservice-trixie.sources <<SRC
Types: deb
URIs: $archive
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
}

if ! has_glibcxx_3_4_32; then
  if [[ "$codename" == "bookworm" ]]; then
    echo "prerequisites: installing libstdc++6 from Debian 13"
    add_trixie_source
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
if ! has_font; then
  echo "prerequisites: installing fonts-dejavu-core"
  apt_update
  apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null
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
if ! has_kubectl; then
  echo "prerequisites: installing kubernetes-client (kubectl)"
  if [[ "$codename" == "bookworm" ]]; then
    add_trixie_source
    apt_update
    apt-get install -y -qq --no-install-recommends -t trixie kubernetes-client >/dev/null
  else
    apt_update
    apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
  fi
  has_kubectl || { echo "prerequisites: kubernetes-client installed but kubectl has no kustomize v5 (kubectl version --client)" >&2; exit 1; }
fi
echo "prerequisites: installed"
