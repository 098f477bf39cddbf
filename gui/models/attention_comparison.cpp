#include "gui/models/attention_comparison.h"

#include <cmath>
#include <limits>

#include "core/base/error.h"

namespace headscope::gui {
namespace {

std::string describe(const RunRef& ref, const AttentionMap& map) {
  return ref.file->name() + " run " + std::to_string(ref.run) + " (" + map.dataset + ", " +
         std::to_string(map.rows) + " x " + std::to_string(map.cols) + " cells of " +
         std::to_string(map.block_size) + ")";
}

bool same_cells(const AttentionMap& a, const AttentionMap& b) {
  return a.kind == b.kind && a.rows == b.rows && a.cols == b.cols && a.block_size == b.block_size;
}

}  // namespace

AttentionComparison compare_attention(const RunRef& a, const RunRef& b, int64_t layer, int64_t head,
                                      int64_t full_map_limit) {
  auto read = [&](const RunRef& ref, int64_t limit, const AttentionMap& other) {
    AttentionRequest r{ref.run, layer, head, limit};
    if (other.kind == AttentionMap::Kind::kBlocks) r.pattern_block_size = other.block_size;
    return read_attention_map(*ref.file, r);
  };
  const AttentionMap none;  // kFull: no blocks to match
  AttentionMap map_a = read(a, full_map_limit, none);
  // One run against itself (the view's start with a one-run file) is read once.
  const bool same_run = a.file == b.file && a.run == b.run;
  AttentionMap map_b = same_run ? map_a : read(b, full_map_limit, none);
  if (!same_cells(map_a, map_b)) {
    // One full and one block map, or full maps of two lengths: both as block maps (a limit of
    // 0 reads no full map); a pattern summed in the other run's blocks when it has block_mass.
    if (map_a.kind == AttentionMap::Kind::kFull) map_a = read(a, 0, map_b);
    if (map_b.kind == AttentionMap::Kind::kFull) map_b = read(b, 0, map_a);
  }
  if (!same_cells(map_a, map_b)) {
    throw InvalidInput("cannot compare " + describe(a, map_a) + " with " + describe(b, map_b) +
                       ": their cells differ");
  }
  auto difference = std::make_shared<AttentionMap>(map_a);
  for (size_t i = 0; i < difference->values.size(); ++i) {
    const float va = map_a.values[i], vb = map_b.values[i];
    difference->values[i] =
        std::isfinite(va) && std::isfinite(vb) ? va - vb : std::numeric_limits<float>::quiet_NaN();
  }
  AttentionComparison out;
  out.a = std::make_shared<const AttentionMap>(std::move(map_a));
  out.b = std::make_shared<const AttentionMap>(std::move(map_b));
  out.difference = std::move(difference);
  return out;
}

}  // namespace headscope::gui
