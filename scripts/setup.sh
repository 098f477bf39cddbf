#!/usr/bin/env bash
# Installs headscope's dependencies from Debian 12 packages (nothing else is downloaded) and
# builds everything into build/. Safe to re-run: installed packages and built objects are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev libopenblas0-pthread libhdf5-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcli11-dev
  libgtest-dev libgmock-dev
  qt6-base-dev fonts-dejavu-core
  # (libopenblas0-pthread: without it LibTorch's matmuls run on the reference BLAS, ~8x slower)
  # (Qt draws the PNG grids offscreen; DejaVu is the font it draws their labels in)
  python3-h5py python3-numpy python3-xarray python3-h5netcdf python3-matplotlib python3-nbformat
  # (the tests read recordings back and run the exported notebook with Debian's Python)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "headscope setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
echo "headscope setup: built build/cli/headscope"
