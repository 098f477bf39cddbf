#include "gui/models/snr_curves.h"

#include <cmath>
#include <limits>

#include "core/base/error.h"
#include "core/store/snr_schema.h"
#include "gui/models/hdf5_lock.h"
#include "gui/models/number_array.h"

namespace headscope::gui {
namespace {

std::string snr_dataset_path(const char* name) {
  return std::string(kSnrPath) + "/" + name;
}

std::vector<double> read_scale(const OpenFile& file, const char* name) {
  NumberArray array = read_number_array(file, snr_dataset_path(name));
  if (array.shape.size() != 1 || array.values.empty()) {
    throw InvalidInput(file.path() + ": " + snr_dataset_path(name) +
                       ": expected a non-empty 1-D scale of values");
  }
  return std::move(array.values);
}

// One head's values over the nb block sizes of a [L, H, nb, n] array ([L, H, nb]: n = 1), at
// index k of the last axis.
std::vector<double> over_blocks(const std::vector<double>& values, size_t head, size_t nb, size_t n,
                                size_t k) {
  std::vector<double> out;
  for (size_t b = 0; b < nb; ++b) out.push_back(values[(head * nb + b) * n + k]);
  return out;
}

}  // namespace

std::vector<double> SnrCurves::snr_theory_of(int64_t layer, int64_t head) const {
  return over_blocks(snr_theory, static_cast<size_t>(layer * heads + head), block_sizes.size(), 1,
                     0);
}

std::vector<double> SnrCurves::snr_measured_of(int64_t layer, int64_t head) const {
  return over_blocks(snr_measured, static_cast<size_t>(layer * heads + head), block_sizes.size(), 1,
                     0);
}

std::vector<double> SnrCurves::recall_of(int64_t layer, int64_t head, size_t k) const {
  return over_blocks(recall, static_cast<size_t>(layer * heads + head), block_sizes.size(),
                     topk.size(), k);
}

std::vector<double> SnrCurves::predicted_recall_of(int64_t layer, int64_t head, size_t k) const {
  return over_blocks(predicted_recall, static_cast<size_t>(layer * heads + head),
                     block_sizes.size(), topk.size(), k);
}

bool has_snr_curves(const OpenFile& file) {
  auto lock = hdf5_lock();
  return has_path(file, kSnrPath);
}

SnrCurves read_snr_curves(const OpenFile& file) {
  auto lock = hdf5_lock();
  SnrCurves out;
  NumberArray theory = read_number_array(file, snr_dataset_path("snr_theory"));
  if (theory.shape.size() != 3) {
    throw InvalidInput(file.path() + ": " + snr_dataset_path("snr_theory") +
                       ": expected [layer, head, block_size], found " + shape_text(theory.shape));
  }
  out.layers = theory.shape[0];
  out.heads = theory.shape[1];
  out.block_sizes = read_scale(file, kDimBlockSize);
  out.topk = read_scale(file, kDimTopK);
  const auto nb = static_cast<int64_t>(out.block_sizes.size());
  const auto nk = static_cast<int64_t>(out.topk.size());
  if (theory.shape[2] != nb) {
    throw InvalidInput(file.path() + ": " + snr_dataset_path("snr_theory") + ": expected " +
                       shape_text({out.layers, out.heads, nb}) +
                       " (layer, head, block_size), found " + shape_text(theory.shape));
  }
  out.snr_theory = std::move(theory.values);
  out.snr_measured = read_shaped_array(file, snr_dataset_path("snr_measured"),
                                       {out.layers, out.heads, nb}, "layer, head, block_size");
  out.recall = read_shaped_array(file, snr_dataset_path("recall"), {out.layers, out.heads, nb, nk},
                                 "layer, head, block_size, topk");
  out.predicted_recall =
      read_shaped_array(file, snr_dataset_path("predicted_recall"), {out.layers, out.heads, nb, nk},
                        "layer, head, block_size, topk");
  return out;
}

HeadValues block_size_reaching(const SnrCurves& curves, size_t k, double target,
                               BlockChoice choice) {
  HeadValues out;
  out.quantity.label =
      "block size reaching recall@" + std::to_string(static_cast<int64_t>(curves.topk.at(k)));
  out.quantity.path = snr_dataset_path("recall");
  out.quantity.unit = "tokens";
  out.layers = curves.layers;
  out.heads = curves.heads;
  for (int64_t l = 0; l < curves.layers; ++l) {
    for (int64_t h = 0; h < curves.heads; ++h) {
      const std::vector<double> recall = curves.recall_of(l, h, k);
      double best = std::numeric_limits<double>::quiet_NaN();
      for (size_t b = 0; b < recall.size(); ++b) {
        // NaN recall (nothing routed) never reaches a target.
        if (!(recall[b] >= target)) continue;
        const double size = curves.block_sizes[b];
        if (std::isnan(best) || (choice == BlockChoice::kLargest ? size > best : size < best)) {
          best = size;
        }
      }
      out.values.push_back(best);
    }
  }
  return out;
}

}  // namespace headscope::gui
