# shellcheck shell=bash
# Sourced, from the repository root, by the bench/gpu*.sh scripts: the GPU machine's build
# environment. LibTorch is the one inside the machine's PyTorch; the libraries missing there
# (PCRE2, utf8proc, HDF5, ...) come as Debian .deb files in .deps/ (see docs/DEVELOPING.md),
# unpacked into $HEADSCOPE_DEPS. Sourcing sets PATH (nvcc) and LD_LIBRARY_PATH (the unpacked
# libraries, for the build and for running what it made); gpu_unpack_deps and gpu_configure do
# the rest.

# Overridable for a dry run off the GPU machine; bench/zoo_gpu.sh assumes this default.
HEADSCOPE_DEPS=${HEADSCOPE_DEPS:-/tmp/headscope-deps}

# CMake finds nvcc through PATH.
command -v nvcc >/dev/null || export PATH="$PATH:/usr/local/cuda/bin"

gpu_deps_lib="$HEADSCOPE_DEPS/usr/lib/x86_64-linux-gnu"
case ":${LD_LIBRARY_PATH:-}:" in
  *":$gpu_deps_lib:"*) ;;
  *) export LD_LIBRARY_PATH="$gpu_deps_lib:$gpu_deps_lib/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
esac

# A GoogleTest library already on the machine (empty: none). It wins over the .deb's: its
# headers would otherwise meet a library of another version (mismatched class layouts crash at
# test start).
gpu_system_gtest() {
  find /usr/lib /usr/local/lib /usr/lib64 -name 'libgtest.*' 2>/dev/null | head -1
}

# Unpacks .deps/*.deb into $HEADSCOPE_DEPS (GoogleTest's only without a system one).
gpu_unpack_deps() {
  local system_gtest deb
  system_gtest=$(gpu_system_gtest)
  mkdir -p "$HEADSCOPE_DEPS" || return 1
  for deb in .deps/*.deb; do
    if [[ ! -e "$deb" ]]; then
      echo "gpu_env: no .deps/*.deb here (docs/DEVELOPING.md); using the machine's libraries" >&2
      return 0
    fi
    case "$deb" in *libgtest-dev*|*libgmock-dev*) [[ -n "$system_gtest" ]] && continue ;; esac
    dpkg -x "$deb" "$HEADSCOPE_DEPS" || { echo "gpu_env: cannot unpack $deb" >&2; return 1; }
  done
}

# Configures build-gpu/ (or the directory $2; Ninja, Release) against PyTorch's LibTorch and the
# unpacked libraries, with any further arguments passed to cmake; cmake's output goes to the
# file $1.
gpu_configure() {
  local log=$1 build=${2:-build-gpu} torch_prefix
  shift $(( $# < 2 ? $# : 2 ))
  : >"$log"
  if ! torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>>"$log"); then
    echo "gpu_env: python3 cannot import torch (see $log)" >&2
    return 1
  fi
  # Without a system GoogleTest library, the unpacked headers must shadow any stray system ones.
  local extra=()
  [[ -z "$(gpu_system_gtest)" ]] && extra=("-DCMAKE_CXX_FLAGS=-I$HEADSCOPE_DEPS/usr/include")
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$HEADSCOPE_DEPS/usr" -DCMAKE_CUDA_ARCHITECTURES=90 \
    ${extra[@]+"${extra[@]}"} "$@" >>"$log" 2>&1
}

# Builds the targets $2... into build-gpu-dist (sm_90a kernels; one build shared by the bench
# scripts), configuring only when it is not configured yet, so a warm machine goes straight to
# the work. Logs under the directory $1.
gpu_build_targets() {
  local out=$1 start
  shift
  start=$(date +%s)
  if [[ ! -f build-gpu-dist/build.ninja ]]; then
    gpu_unpack_deps || return 1
    gpu_configure "$out/configure.log" build-gpu-dist -DHEADSCOPE_CUDA_ARCHITECTURES=90a \
      -DCMAKE_CUDA_FLAGS=--threads=0 || { tail -20 "$out/configure.log"; return 1; }
  fi
  cmake --build build-gpu-dist -j"$(nproc)" --target "$@" >"$out/build.log" 2>&1 ||
    { grep -E "error|FAILED" "$out/build.log" | head -20; return 1; }
  echo "build of $*: $(( $(date +%s) - start )) s"
}
