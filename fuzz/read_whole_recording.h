// Reads everything RecordingReader offers from a recording: the model summary, every run's
// attributes, dataset list, shapes, axis names and values, whole and sliced. Shared by the
// recording fuzz target and the corrupted-recording tests, so both exercise every read path.
// A malformed part throws headscope::Error; the walk notes it and goes on to the next part.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/store/recording_reader.h"
#include "core/store/recording_schema.h"

namespace headscope {

// Runs `part`; returns whether it threw headscope::Error (any other exception propagates).
template <typename Part>
bool rejected(Part part) {
  try {
    part();
    return false;
  } catch (const Error&) {
    return true;
  }
}

// The number of parts that were rejected with headscope::Error.
inline int read_whole_recording(const RecordingReader& reader) {
  // A corrupted file may claim any number of runs; a few cover every read path.
  constexpr int64_t kRunsRead = 3;
  int rejected_parts = 0;
  auto part = [&](auto call) { rejected_parts += rejected(call) ? 1 : 0; };
  part([&] { reader.model(); });
  int64_t runs = 0;
  part([&] { runs = reader.run_count(); });
  for (int64_t run = 0; run < std::min(runs, kRunsRead); ++run) {
    part([&] { reader.attribute(run, "prompt"); });
    part([&] { reader.hooks(run); });
    part([&] { reader.read_tokens(run); });
    part([&] { reader.read_token_text(run); });
    part([&] { reader.int_attribute(run, kAttentionStats, kAttrBlockSize); });
    std::vector<std::string> names;
    part([&] { names = reader.datasets(run); });
    for (const std::string& name : names) {
      std::vector<int64_t> shape;
      part([&] { shape = reader.shape(run, name); });
      part([&] { reader.has(run, name); });
      part([&] { reader.dimensions(run, name); });
      part([&] { reader.read_f32(run, name); });
      part([&] { reader.read_i32(run, name); });
      if (shape.empty()) continue;
      // The first entry along the leading axis, as read_head and the per-head readers do.
      std::vector<int64_t> start(shape.size(), 0);
      std::vector<int64_t> count = shape;
      count[0] = std::min<int64_t>(count[0], 1);
      part([&] { reader.read_f32_slice(run, name, start, count); });
      part([&] { reader.read_i32_slice(run, name, start, count); });
      if (shape.size() == 3) part([&] { reader.read_head(run, name, 0); });
    }
  }
  return rejected_parts;
}

}  // namespace headscope
