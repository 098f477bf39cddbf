#include "gui/models/head_values.h"

#include <cmath>
#include <functional>
#include <limits>

#include "core/base/error.h"
#include "core/store/recording_schema.h"
#include "gui/models/hdf5_listing.h"
#include "gui/models/hdf5_lock.h"
#include "gui/models/number_array.h"

namespace headscope::gui {
namespace {

// The statistics with one value per query that average to a per-head number.
struct QueryStatistic {
  const char* dataset;
  const char* label;
  const char* unit;
};
constexpr QueryStatistic kQueryStatistics[] = {
    {kStatEntropy, "mean entropy", "nats"},
    {kStatSinkMass, "mean sink mass", "mass"},
    {kStatLocalMass, "mean local mass", "mass"},
    {kStatMaxProb, "mean max prob", "prob"},
};

bool is_number(const std::string& type) {
  return type.rfind("float", 0) == 0 || type.rfind("int", 0) == 0 || type.rfind("uint", 0) == 0;
}

// A dataset is per head when its axes are named (layer, head), or, unnamed, when its shape is
// the model's [n_layers, n_heads].
bool is_per_head(const H5Entry& entry, const OpenFile& file) {
  if (entry.kind != H5EntryKind::kDataset || entry.shape.size() != 2 || !is_number(entry.type)) {
    return false;
  }
  if (entry.dimensions == std::vector<std::string>{"layer", "head"}) return true;
  const bool unnamed = entry.dimensions[0].empty() && entry.dimensions[1].empty();
  return unnamed && entry.shape[0] == file.layers() && entry.shape[1] == file.heads() &&
         file.layers() > 0;
}

void find_in_analyses(const OpenFile& file, const std::string& path,
                      std::vector<HeadQuantity>& out) {
  const size_t prefix = std::string(kAnalysesGroup).size() + 1;
  for (const H5Entry& entry : list_h5_children(file.handle(), file.path(), path)) {
    if (entry.kind == H5EntryKind::kGroup) {
      find_in_analyses(file, entry.path, out);
    } else if (is_per_head(entry, file)) {
      out.push_back(
          {entry.path.substr(prefix), entry.path, "", -1, HeadQuantity::Source::kLayerHead, ""});
    }
  }
}

HeadValues read_layer_head(const OpenFile& file, const HeadQuantity& quantity) {
  NumberArray array = read_number_array(file, quantity.path);
  if (array.shape.size() != 2) {
    throw InvalidInput(H5Where{file.path(), quantity.path}.str() + ": expected [layer, head]");
  }
  HeadValues out;
  out.quantity = quantity;
  out.layers = array.shape[0];
  out.heads = array.shape[1];
  out.values = std::move(array.values);
  return out;
}

HeadValues read_mean_over_query(const OpenFile& file, const HeadQuantity& quantity) {
  const RecordingReader& reader = file.reader();
  const std::string name = quantity.path.substr(quantity.path.find(kAttentionStats));
  const std::vector<int64_t> shape = reader.shape(quantity.run, name);
  if (shape.size() != 3) {
    throw InvalidInput(file.path() + ": " + quantity.path + ": expected [layer, head, query]");
  }
  HeadValues out;
  out.quantity = quantity;
  out.layers = shape[0];
  out.heads = shape[1];
  out.values.assign(static_cast<size_t>(shape[0] * shape[1]),
                    std::numeric_limits<double>::quiet_NaN());
  for (int64_t layer = 0; layer < shape[0]; ++layer) {
    const std::vector<float> rows =
        reader.read_f32_slice(quantity.run, name, {layer, 0, 0}, {1, shape[1], shape[2]});
    for (int64_t head = 0; head < shape[1]; ++head) {
      // Summed in double: T reaches 128K, where float32 sums lose digits.
      double sum = 0;
      int64_t count = 0;
      for (int64_t q = 0; q < shape[2]; ++q) {
        const float v = rows[static_cast<size_t>(head * shape[2] + q)];
        if (std::isfinite(v)) sum += v, ++count;
      }
      if (count > 0) out.values[static_cast<size_t>(layer * shape[1] + head)] = sum / count;
    }
  }
  return out;
}

}  // namespace

std::vector<HeadQuantity> find_head_quantities(const OpenFile& file) {
  auto lock = hdf5_lock();
  std::vector<HeadQuantity> out;
  const H5Where root{file.path(), "/"};
  if (h5_path_exists(file.handle(), kAnalysesGroup + 1, root)) {
    find_in_analyses(file, kAnalysesGroup, out);
  }
  for (int64_t run = 0; run < file.run_count(); ++run) {
    for (const QueryStatistic& statistic : kQueryStatistics) {
      const std::string name = attention_stats_path(statistic.dataset);
      if (!file.reader().has(run, name)) continue;
      out.push_back({"run " + std::to_string(run) + ": " + statistic.label,
                     std::string(kRunsGroup) + "/" + std::to_string(run) + "/" + name,
                     statistic.unit, run, HeadQuantity::Source::kMeanOverQuery, statistic.dataset});
    }
  }
  return out;
}

HeadValues read_head_values(const OpenFile& file, const HeadQuantity& quantity) {
  auto lock = hdf5_lock();
  return quantity.source == HeadQuantity::Source::kLayerHead ? read_layer_head(file, quantity)
                                                             : read_mean_over_query(file, quantity);
}

}  // namespace headscope::gui
