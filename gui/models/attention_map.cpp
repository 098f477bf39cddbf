#include "gui/models/attention_map.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/store/recording_schema.h"
#include "gui/models/hdf5_lock.h"

namespace headscope::gui {
namespace {

// Sums of the head's [T, S] pattern over blocks of `block` x `block` positions, read one tile
// of whole blocks about a chunk's edge (kChunkEdge) square at a time, so that each compressed
// chunk is read once: memory is one tile, one row of tiles' sums and the block map, whatever T.
void sum_pattern_blocks(const RecordingReader& reader, int64_t run, const std::string& pattern,
                        const std::vector<int64_t>& shape, int64_t head, int64_t block,
                        AttentionMap& map) {
  const int64_t t = shape[1], s = shape[2];
  map.kind = AttentionMap::Kind::kBlocks;
  map.dataset = pattern;
  map.block_size = block;
  map.rows = (t + block - 1) / block;
  map.cols = (s + block - 1) / block;
  map.values.assign(static_cast<size_t>(map.rows * map.cols), 0.0f);
  const int64_t tile = block * std::max<int64_t>(1, kChunkEdge / block);
  const int64_t tile_blocks = tile / block;
  std::vector<double> sums(static_cast<size_t>(tile_blocks * map.cols));
  for (int64_t q0 = 0; q0 < t; q0 += tile) {
    const int64_t queries = std::min(tile, t - q0);
    std::fill(sums.begin(), sums.end(), 0.0);
    for (int64_t k0 = 0; k0 < s; k0 += tile) {
      const int64_t keys = std::min(tile, s - k0);
      const std::vector<float> box =
          reader.read_f32_slice(run, pattern, {head, q0, k0}, {1, queries, keys});
      for (int64_t q = 0; q < queries; ++q) {
        double* row = sums.data() + (q / block) * map.cols;
        const float* values = box.data() + q * keys;
        for (int64_t k = 0; k < keys; ++k) row[(k0 + k) / block] += values[k];
      }
    }
    const int64_t first_row = q0 / block;
    const int64_t rows = std::min(tile_blocks, map.rows - first_row);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < map.cols; ++c) {
        map.values[static_cast<size_t>((first_row + r) * map.cols + c)] =
            static_cast<float>(sums[static_cast<size_t>(r * map.cols + c)]);
      }
    }
  }
}

}  // namespace

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
  if (!reader.has(run, blocks) && has_pattern) {
    const std::vector<int64_t> shape = reader.shape(run, pattern);
    if (shape.size() != 3 || request.head < 0 || request.head >= shape[0]) {
      throw InvalidInput(file.path() + ": run " + std::to_string(run) + ": " + pattern +
                         " has no head " + std::to_string(request.head));
    }
    const int64_t longest = std::max(shape[1], shape[2]);
    const int64_t block = std::max(request.pattern_block_size,
                                   (longest + request.max_blocks - 1) / request.max_blocks);
    sum_pattern_blocks(reader, run, pattern, shape, request.head, block, map);
    map.positions = shape[1];
    return map;
  }
  if (!reader.has(run, blocks)) {
    throw InvalidInput(file.path() + ": run " + std::to_string(run) +
                       " has no hook_pattern of layer " + std::to_string(request.layer) +
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
