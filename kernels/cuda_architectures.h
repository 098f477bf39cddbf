// Which GPUs a build of the CUDA kernels runs on. The build records the architecture list its
// kernels were compiled for (HEADSCOPE_CUDA_ARCHITECTURES); the dispatch compares the device's
// compute capability with it, so a GPU the build has no binary for takes the CPU reference
// instead of failing at launch. No CUDA here: the rule is tested on any machine.
#pragma once

#include <string_view>

namespace headscope {

// True when a binary built for `architectures` (CMake's CUDA_ARCHITECTURES entries, separated
// by ';' or spaces: NN machine code and PTX, NN-real machine code only, NN-virtual PTX only;
// NN = 10 major + minor, suffix 'a' or 'f' for the arch- and family-specific targets) runs on a
// device of compute capability major.minor. CUDA's compatibility rules: machine code for X.Y
// runs on X.Z with Z >= Y (sm_XYa only on X.Y itself; sm_XYf across its family, taken as
// major X); PTX for X.Y is compiled by the driver for any later device (compute_XYa only for
// X.Y, compute_XYf for its family). Entries that are none of these (CMake's "native", "all")
// match nothing.
bool cuda_architectures_run_on(std::string_view architectures, int major, int minor);

}  // namespace headscope
