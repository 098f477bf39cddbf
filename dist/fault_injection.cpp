#include "dist/fault_injection.h"

#include <csignal>
#include <cstdlib>
#include <string>

#include "core/base/error.h"

namespace headscope {

void kill_if_asked(const LaunchEnv& env, int64_t completed) {
  const char* value = std::getenv(kDistKillVariable);
  if (value == nullptr || !env.distributed()) return;
  const std::string text = value;
  const size_t colon = text.find(':');
  size_t rank_end = 0;
  size_t count_end = 0;
  int64_t rank = -1;
  int64_t count = -1;
  try {
    rank = std::stoll(text.substr(0, colon), &rank_end);
    count = std::stoll(text.substr(colon + 1), &count_end);
  } catch (const std::exception&) {
    rank_end = 0;
  }
  if (colon == std::string::npos || rank_end != colon || count_end != text.size() - colon - 1 ||
      rank < 0 || count < 0) {
    throw InvalidInput("environment variable " + std::string(kDistKillVariable) + "=\"" + text +
                       "\": expected RANK:COUNT (non-negative integers)");
  }
  if (rank == env.rank && completed >= count) std::raise(SIGKILL);
}

}  // namespace headscope
