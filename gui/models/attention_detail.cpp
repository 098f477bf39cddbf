#include "gui/models/attention_detail.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/store/recording_schema.h"
#include "gui/models/hdf5_lock.h"

namespace headscope::gui {
namespace {

std::string pattern_path(int64_t layer) {
  return "blocks." + std::to_string(layer) + ".attn.hook_pattern";
}

std::string run_name(const OpenFile& file, int64_t run) {
  return file.path() + ": run " + std::to_string(run);
}

void check_run(const OpenFile& file, int64_t run) {
  if (run < 0 || run >= file.run_count()) {
    throw InvalidInput(file.path() + ": no run " + std::to_string(run));
  }
}

// The run's positions: its tokens, else the pattern's query axis.
int64_t run_positions(const RecordingReader& reader, int64_t run, int64_t layer) {
  if (reader.has(run, kTokens)) return reader.shape(run, kTokens)[0];
  const std::string pattern = pattern_path(layer);
  if (reader.has(run, pattern)) return reader.shape(run, pattern)[1];
  return 0;
}

// A [layer, head, query, k] statistic's lists for queries [begin, end) of one head.
struct TopK {
  int64_t k = 0;
  std::vector<int32_t> index;
  std::vector<float> prob;
};

bool has_topk(const RecordingReader& reader, int64_t run) {
  return reader.has(run, attention_stats_path(kStatTopkIndex)) &&
         reader.has(run, attention_stats_path(kStatTopkProb));
}

TopK read_topk(const RecordingReader& reader, const AttentionRequest& head, int64_t begin,
               int64_t end) {
  const std::string index = attention_stats_path(kStatTopkIndex);
  const std::vector<int64_t> shape = reader.shape(head.run, index);
  TopK topk;
  topk.k = shape.at(3);
  const std::vector<int64_t> start = {head.layer, head.head, begin, 0};
  const std::vector<int64_t> count = {1, 1, end - begin, topk.k};
  topk.index = reader.read_i32_slice(head.run, index, start, count);
  topk.prob = reader.read_f32_slice(head.run, attention_stats_path(kStatTopkProb), start, count);
  return topk;
}

// The `top` largest of values[i] (position offset + i), highest first.
std::vector<SliceEntry> largest(const std::vector<float>& values, int64_t offset, int64_t top) {
  std::vector<SliceEntry> entries;
  entries.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i]) && values[i] > 0) {
      entries.push_back({offset + static_cast<int64_t>(i), values[i]});
    }
  }
  const auto higher = [](const SliceEntry& a, const SliceEntry& b) {
    return a.value > b.value || (a.value == b.value && a.position < b.position);
  };
  const auto n = std::min<size_t>(entries.size(), static_cast<size_t>(top));
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n),
                    entries.end(), higher);
  entries.resize(n);
  return entries;
}

}  // namespace

float AttentionDetail::value(int64_t query, int64_t key) const {
  const int64_t q = query - box.query_begin;
  if (kind == Kind::kExact) {
    return values[static_cast<size_t>(q * box.keys() + key - box.key_begin)];
  }
  for (int64_t j = 0; j < k; ++j) {
    const auto i = static_cast<size_t>(q * k + j);
    if (topk_index[i] == key) return topk_prob[i];
  }
  return std::numeric_limits<float>::quiet_NaN();
}

AttentionDetail read_attention_detail(const OpenFile& file, const DetailRequest& request) {
  auto lock = hdf5_lock();
  const RecordingReader& reader = file.reader();
  const AttentionRequest& head = request.head;
  check_run(file, head.run);
  const int64_t positions = run_positions(reader, head.run, head.layer);
  AttentionDetail detail;
  detail.request = request;
  PositionBox& box = detail.box;
  box.query_begin = std::clamp<int64_t>(request.box.query_begin, 0, positions);
  box.query_end = std::clamp<int64_t>(request.box.query_end, box.query_begin, positions);
  box.key_begin = std::clamp<int64_t>(request.box.key_begin, 0, positions);
  box.key_end = std::clamp<int64_t>(request.box.key_end, box.key_begin, positions);
  const std::string pattern = pattern_path(head.layer);
  if (reader.has(head.run, pattern) && box.queries() <= request.exact_limit &&
      box.keys() <= request.exact_limit) {
    detail.kind = AttentionDetail::Kind::kExact;
    detail.dataset = pattern;
    detail.values =
        reader.read_f32_slice(head.run, pattern, {head.head, box.query_begin, box.key_begin},
                              {1, box.queries(), box.keys()});
    return detail;
  }
  if (!has_topk(reader, head.run)) {
    throw InvalidInput(run_name(file, head.run) + " has neither a hook_pattern of layer " +
                       std::to_string(head.layer) + " (for boxes of up to " +
                       std::to_string(request.exact_limit) + " positions) nor the top-k lists " +
                       attention_stats_path(kStatTopkIndex));
  }
  detail.kind = AttentionDetail::Kind::kTopK;
  detail.dataset = attention_stats_path(kStatTopkProb);
  TopK topk = read_topk(reader, head, box.query_begin, box.query_end);
  detail.k = topk.k;
  detail.topk_index = std::move(topk.index);
  detail.topk_prob = std::move(topk.prob);
  return detail;
}

QueryRow read_query_row(const OpenFile& file, const AttentionRequest& head, int64_t query) {
  auto lock = hdf5_lock();
  const RecordingReader& reader = file.reader();
  check_run(file, head.run);
  const int64_t positions = run_positions(reader, head.run, head.layer);
  if (query < 0 || query >= positions) {
    throw InvalidInput(run_name(file, head.run) + " has no query " + std::to_string(query) +
                       " (it has " + std::to_string(positions) + " positions)");
  }
  QueryRow row;
  row.head = head;
  row.query = query;
  const std::string pattern = pattern_path(head.layer);
  if (reader.has(head.run, pattern)) {
    row.source = pattern;
    row.exact = true;
    row.values = reader.read_f32_slice(head.run, pattern, {head.head, query, 0}, {1, 1, positions});
    return row;
  }
  if (!has_topk(reader, head.run)) {
    throw InvalidInput(run_name(file, head.run) + " has neither a hook_pattern of layer " +
                       std::to_string(head.layer) + " nor the top-k lists " +
                       attention_stats_path(kStatTopkIndex));
  }
  const TopK topk = read_topk(reader, head, query, query + 1);
  row.source = attention_stats_path(kStatTopkProb);
  row.values.assign(static_cast<size_t>(positions), 0.0f);
  for (int64_t j = 0; j < topk.k; ++j) {
    const int32_t key = topk.index[static_cast<size_t>(j)];
    if (key >= 0 && key < positions)
      row.values[static_cast<size_t>(key)] = topk.prob[static_cast<size_t>(j)];
  }
  return row;
}

AttentionSlices read_attention_slices(const OpenFile& file, const AttentionRequest& head,
                                      int64_t query, int64_t key, int64_t top,
                                      int64_t column_limit) {
  const QueryRow row = read_query_row(file, head, query);
  auto lock = hdf5_lock();
  const RecordingReader& reader = file.reader();
  const auto positions = static_cast<int64_t>(row.values.size());
  if (key < 0 || key >= positions) {
    throw InvalidInput(run_name(file, head.run) + " has no key " + std::to_string(key));
  }
  AttentionSlices slices;
  slices.head = head;
  slices.query = query;
  slices.key = key;
  slices.row_source = row.source;
  slices.row_top = largest(row.values, 0, top);
  if (row.exact) {
    // Causal rows give key k nothing before query k: the column starts at the key.
    const int64_t end = std::min(positions, key + column_limit);
    const std::vector<float> column =
        reader.read_f32_slice(head.run, row.source, {head.head, key, key}, {1, end - key, 1});
    slices.column_source =
        row.source + ", queries " + std::to_string(key) + "-" + std::to_string(end - 1);
    slices.column_top = largest(column, key, top);
    return slices;
  }
  const TopK topk = read_topk(reader, head, 0, positions);
  std::vector<float> column(static_cast<size_t>(positions), 0.0f);
  for (size_t i = 0; i < topk.index.size(); ++i) {
    if (topk.index[i] == key) column[i / static_cast<size_t>(topk.k)] = topk.prob[i];
  }
  slices.column_source = row.source + ", every query's top " + std::to_string(topk.k);
  slices.column_top = largest(column, 0, top);
  return slices;
}

}  // namespace headscope::gui
