// A rank lost mid-scan, on demand, for the tests of what the other ranks then do (the lost
// rank's completed work survives, the error names it, nothing hangs). HEADSCOPE_DIST_KILL="R:N"
// makes rank R of a distributed launch kill itself with SIGKILL (no cleanup, as the kernel's
// out-of-memory killer or a dead node would) once it has completed N samples of its share (in
// the analyses that exchange results mid-computation: N rounds, each ended by an exchange; it
// dies before sending the N-th).
// Unset, or a single process: nothing happens.
#pragma once

#include <cstdint>

#include "dist/launch_env.h"

namespace headscope {

inline constexpr char kDistKillVariable[] = "HEADSCOPE_DIST_KILL";

// Called after each completed sample with how many this rank has completed. Throws
// InvalidInput naming the variable when its value is not "RANK:COUNT".
void kill_if_asked(const LaunchEnv& env, int64_t completed);

}  // namespace headscope
