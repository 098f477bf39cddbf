#include "gui/models/attention_map.h"

#include "core/base/error.h"
#include "core/store/recording_schema.h"
#include "gui/models/hdf5_lock.h"

namespace headscope::gui {

AttentionMap read_attention_map(const OpenFile& file, const AttentionRequest& request) {
  auto lock = hdf5_lock();
  const RecordingReader& reader = file.reader();
  const int64_t run = request.run;
  if (run < 0 || run >= file.run_count()) {
    throw InvalidInput(file.path() + ": no run " + std::to_string(run));
  }
  AttentionMap map;
  map.request = request;
  if (reader.has(run, kTokenText)) map.token_text = reader.read_token_text(run);
  const std::string pattern = "blocks." + std::to_string(request.layer) + ".attn.hook_pattern";
  const bool has_pattern = reader.has(run, pattern);
  if (has_pattern) {
    const std::vector<int64_t> shape = reader.shape(run, pattern);
    if (shape.size() == 3 && shape[1] <= request.full_map_limit) {
      map.kind = AttentionMap::Kind::kFull;
      map.dataset = pattern;
      map.positions = shape[1];
      map.rows = shape[1];
      map.cols = shape[2];
      map.values = reader.read_head(run, pattern, request.head);
      return map;
    }
  }
  const std::string blocks = block_mass_path(request.layer);
  if (!reader.has(run, blocks)) {
    throw InvalidInput(file.path() + ": run " + std::to_string(run) + " has " +
                       (has_pattern ? "a hook_pattern of layer " + std::to_string(request.layer) +
                                          " longer than " + std::to_string(request.full_map_limit) +
                                          " tokens"
                                    : "no hook_pattern of layer " + std::to_string(request.layer)) +
                       " and no attention statistics " + blocks);
  }
  const std::vector<int64_t> shape = reader.shape(run, blocks);
  if (shape.size() != 3 || request.head < 0 || request.head >= shape[0]) {
    throw InvalidInput(file.path() + ": run " + std::to_string(run) + ": " + blocks +
                       " has no head " + std::to_string(request.head));
  }
  map.kind = AttentionMap::Kind::kBlocks;
  map.dataset = blocks;
  map.block_size = reader.int_attribute(run, kAttentionStats, kAttrBlockSize);
  map.rows = shape[1];
  map.cols = shape[2];
  map.positions =
      reader.has(run, kTokens) ? reader.shape(run, kTokens)[0] : shape[1] * map.block_size;
  map.values = reader.read_f32_slice(run, blocks, {request.head, 0, 0}, {1, shape[1], shape[2]});
  return map;
}

}  // namespace headscope::gui
