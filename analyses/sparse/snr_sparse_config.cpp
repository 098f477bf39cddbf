#include "analyses/sparse/snr_sparse_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#include "analyses/retrieval/retrieval_file.h"
#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/hdf5_handle.h"
#include "core/store/recording_schema.h"
#include "core/store/snr_schema.h"

namespace headscope {
namespace {

const std::string kGroup = std::string("/analyses/") + kSparsitySnrAnalysis;

// The dataset `name` of the SNR group as `memory_type`, with its extents.
template <typename T>
std::vector<T> read_dataset(hid_t file, const std::string& path, const std::string& name,
                            hid_t memory_type, std::vector<hsize_t>& dims) {
  const std::string object = kGroup + "/" + name;
  const H5Where where{path, object};
  if (!h5_path_exists(file, object.substr(1), where)) {
    throw InvalidInput(path + ": " + kGroup + " has no dataset " + name +
                       " (write it with `headscope snr`)");
  }
  H5Id data =
      h5_own(H5Dopen2(file, object.c_str(), H5P_DEFAULT), H5Kind::kDataset, where, "open dataset");
  dims = h5_dataset_dims(data.get(), where);
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  std::vector<T> values(count);
  if (count > 0) {
    h5_check(H5Dread(data.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), where,
             "read dataset");
  }
  return values;
}

std::vector<int64_t> read_scale(hid_t file, const std::string& path, const std::string& name) {
  std::vector<hsize_t> dims;
  auto values = read_dataset<int64_t>(file, path, name, H5T_NATIVE_INT64, dims);
  if (dims.size() != 1 || values.empty()) {
    throw InvalidInput(path + ": " + kGroup + "/" + name + ": expected a non-empty 1-D scale");
  }
  return values;
}

// The cheapest routing that reaches the target within the budget, or nullopt.
std::optional<SparseHeadConfig> choose_block_sparse(const SnrRouting& r, int64_t layer,
                                                    int64_t head, int64_t length,
                                                    const SnrConfigOptions& o, double& recall) {
  for (size_t b = r.block_sizes.size(); b-- > 0;) {
    for (size_t k = 0; k < r.topk.size(); ++k) {
      const double measured = r.recall_at(layer, head, b, k);
      if (!(measured >= o.recall)) continue;  // NaN: nothing routed at this block size
      // The smallest k reaching the target; a larger k keeps more, so it cannot fit either.
      const auto candidate = SparseHeadConfig::block_sparse(r.block_sizes[b], r.topk[k]);
      if (head_kept_fraction(candidate, length) > o.budget) break;
      recall = measured;
      return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace

double SnrRouting::recall_at(int64_t layer, int64_t head, size_t block, size_t k) const {
  const size_t index =
      ((static_cast<size_t>(layer * n_heads + head)) * block_sizes.size() + block) * topk.size() +
      k;
  return recall[index];
}

SnrRouting read_snr_routing(const std::string& path) {
  h5_init();
  SnrRouting r;
  r.path = path;
  {
    H5Id file = open_recording_file(path, H5F_ACC_RDONLY);
    const H5Where where{path, kGroup};
    if (!h5_path_exists(file.get(), kGroup.substr(1), where)) {
      throw InvalidInput(path + " has no " + kGroup + " (write it with `headscope snr`)");
    }
    r.block_sizes = read_scale(file.get(), path, kDimBlockSize);
    r.topk = read_scale(file.get(), path, kDimTopK);
    std::vector<hsize_t> dims;
    r.recall = read_dataset<double>(file.get(), path, "recall", H5T_NATIVE_DOUBLE, dims);
    if (dims.size() != 4 || dims[2] != r.block_sizes.size() || dims[3] != r.topk.size()) {
      throw InvalidInput(path + ": " + kGroup +
                         "/recall: expected [layer, head, block_size, topk] with as many block "
                         "sizes and k as the scales hold");
    }
    r.n_layers = static_cast<int64_t>(dims[0]), r.n_heads = static_cast<int64_t>(dims[1]);
    H5Id group =
        h5_own(H5Gopen2(file.get(), kGroup.c_str(), H5P_DEFAULT), H5Kind::kGroup, where, "open");
    const auto length = h5_read_int_attribute(group.get(), "length", where);
    if (!length || *length < 1) {
      throw InvalidInput(path + ": " + kGroup + ": needs a positive integer attribute length");
    }
    r.length = *length;
  }
  r.retrieval_score = read_score_grid(path, kRetrievalScoreDataset);
  if (r.retrieval_score &&
      (r.retrieval_score->size(0) != r.n_layers || r.retrieval_score->size(1) != r.n_heads)) {
    throw InvalidInput(path + ": " + kRetrievalScoreDataset + " is not [layer, head] of " + kGroup +
                       "/recall");
  }
  return r;
}

void check_snr_config_options(const SnrConfigOptions& o) {
  for (const auto& [option, value] : {std::pair{"--recall", o.recall}, {"--budget", o.budget}}) {
    if (!(value > 0.0 && value <= 1.0)) {
      std::ostringstream message;
      message << option << ": expected a fraction in (0, 1], got " << value;
      throw InvalidInput(message.str());
    }
  }
  if (o.length && *o.length < 1) throw InvalidInput("--length: expected >= 1");
  if (o.sink < 0) throw InvalidInput("--sink: expected >= 0");
  if (o.window < 1) throw InvalidInput("--window: expected >= 1");
}

SparseModelConfig config_from_snr(const SnrRouting& r, const SnrConfigOptions& o) {
  check_snr_config_options(o);
  const int64_t length = o.length.value_or(r.length);
  auto config = SparseModelConfig::dense(r.n_layers, r.n_heads);
  auto head_recall = nlohmann::ordered_json::array();
  int64_t streaming = 0, block_sparse = 0;
  for (int64_t l = 0; l < r.n_layers; ++l) {
    auto layer_recall = nlohmann::ordered_json::array();
    for (int64_t h = 0; h < r.n_heads; ++h) {
      auto& head = config.heads[static_cast<size_t>(l)][static_cast<size_t>(h)];
      double recall = std::numeric_limits<double>::quiet_NaN();
      if (auto chosen = choose_block_sparse(r, l, h, length, o, recall)) {
        head = *chosen, ++block_sparse;
        layer_recall.push_back(recall);
        continue;
      }
      if (r.retrieval_score && (*r.retrieval_score)[l][h].item<double>() <= 0.0) {
        head = SparseHeadConfig::streaming(o.sink, o.window), ++streaming;
      }
      layer_recall.push_back(nullptr);
    }
    head_recall.push_back(std::move(layer_recall));
  }
  config.parameters = {
      {"input", r.path},
      {"evidence", kGroup},
      {"recall", o.recall},
      {"budget", o.budget},
      {"length", length},
      {"block_sizes", r.block_sizes},
      {"topk", r.topk},
      {"rule",
       "per head the largest block size whose measured recall@k >= recall, with the smallest "
       "such k, keeping at most budget of the causal entries at length; otherwise streaming "
       "(sink, window) if the file's retrieval score is <= 0, else full"},
      {"retrieval_score", r.retrieval_score.has_value()},
      {"sink", o.sink},
      {"window", o.window},
      {"block_sparse_heads", block_sparse},
      {"streaming_heads", streaming},
      {"kept_fraction", config_kept_fraction(config, length)},
      {"head_recall", std::move(head_recall)}};
  return config;
}

double head_kept_fraction(const SparseHeadConfig& c, int64_t length) {
  HS_ASSERT(length > 0);
  double kept = 0.0;
  for (int64_t i = 0; i < length; ++i) {
    switch (c.kind) {
      case SparseKind::kFull:
        kept += static_cast<double>(i + 1);
        break;
      case SparseKind::kStreaming:
        kept += static_cast<double>(std::min(i + 1, c.window) +
                                    std::clamp<int64_t>(i - c.window + 1, 0, c.sink));
        break;
      case SparseKind::kBlockSparse: {
        const int64_t a = i / c.block_size;
        kept += static_cast<double>(std::min(a, c.topk_blocks) * c.block_size + i -
                                    a * c.block_size + 1);
        break;
      }
    }
  }
  return kept / (static_cast<double>(length) * static_cast<double>(length + 1) / 2.0);
}

double config_kept_fraction(const SparseModelConfig& config, int64_t length) {
  double sum = 0.0;
  int64_t n = 0;
  for (const auto& layer : config.heads) {
    for (const auto& head : layer) sum += head_kept_fraction(head, length), ++n;
  }
  return n == 0 ? 1.0 : sum / static_cast<double>(n);
}

}  // namespace headscope
