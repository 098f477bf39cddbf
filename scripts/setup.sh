#!/usr/bin/env bash
# Installs headscope's dependencies from Debian 12 packages (nothing else is downloaded) and
# builds the `headscope` command into build/ (the test command, scripts/test.sh, builds the rest).
# Safe to re-run: installed packages and built objects are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev libgloo-dev libopenblas0-pthread libhdf5-dev libdeflate-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcli11-dev
  libgtest-dev libgmock-dev
  qt6-base-dev qt6-svg-dev fonts-dejavu-core libboost-dev
  # (libopenblas0-pthread: without it LibTorch's matmuls run on the reference BLAS, ~8x slower)
  # (libdeflate-dev: recordings' chunks are deflated on worker threads, ~2x zlib's speed)
  # (libgloo-dev: the Gloo headers of LibTorch's c10d, for runs on several processes)
  # (Qt draws the PNG grids offscreen; DejaVu is the font it draws their labels in;
  #  qt6-svg-dev, about 1 MB with its library: the explorer's SVG export)
  # (libboost-dev: Boost.Math's distributions, header-only, for `headscope overlap`)
)
# Only the test command's (`scripts/setup.sh --tests`, from scripts/test.sh): the tests read
# recordings back and run the exported notebook with Debian's Python, launch multi-process
# runs with python3-torch's torchrun, and show the explorer's window on Xvfb's X server.
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(python3-h5py python3-numpy python3-xarray python3-h5netcdf python3-matplotlib
    python3-nbformat python3-torch xvfb xauth)
fi

step() { echo "headscope setup: [$1/3] $2 ($(date +%T))"; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  step 1 "installing ${#missing[@]} Debian packages (about 2 minutes)"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  step 1 "Debian packages already installed"
fi

step 2 "configuring build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null

# Only what `headscope` needs: the test executables and the CUDA kernels are the test command's.
step 3 "building headscope (about 8 minutes on 2 cores the first time; [ n%] is make's progress)"
cmake --build build -j"$(nproc)" --target headscope
echo "headscope setup: built build/cli/headscope ($(date +%T))"
