#include "core/model/shard_axes.h"

namespace headscope {

std::optional<int64_t> shard_axis(HookKind kind) {
  switch (kind) {
    case HookKind::kQ:
    case HookKind::kK:
    case HookKind::kV:
    case HookKind::kRotQ:
    case HookKind::kRotK:
    case HookKind::kZ:
    case HookKind::kResult:
      return 2;
    case HookKind::kAttnScores:
    case HookKind::kPattern:
      return 1;
    case HookKind::kMlpPre:
    case HookKind::kMlpPost:
      return 2;
    default:
      return std::nullopt;
  }
}

}  // namespace headscope
