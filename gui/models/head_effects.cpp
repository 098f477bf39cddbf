#include "gui/models/head_effects.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/hdf5_handle.h"
#include "gui/models/hdf5_lock.h"
#include "gui/models/number_array.h"

namespace headscope::gui {
namespace {

// The score fields write_ablation records as baseline_<name> and ablated_<name>.
constexpr const char* kScoreNames[] = {"accuracy", "token_accuracy", "answer_loss", "logit_diff",
                                       "fraction_positive"};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

H5Id open_group(const OpenFile& file, const std::string& path) {
  return h5_own(H5Gopen2(file.handle(), path.c_str(), H5P_DEFAULT), H5Kind::kGroup,
                H5Where{file.path(), path}, "open group");
}

std::vector<double> read_curve(const OpenFile& file, const std::string& name) {
  const std::string path = std::string(kImportancePath) + "/" + name;
  NumberArray array = read_number_array(file, path);
  if (array.shape.size() != 1) {
    throw InvalidInput(file.path() + ": " + path + ": expected [step] (one value per step)");
  }
  return std::move(array.values);
}

PruningCurve read_pruning_curve(const OpenFile& file) {
  PruningCurve curve;
  curve.heads_pruned = read_curve(file, "curve_heads_pruned");
  curve.value = read_curve(file, "curve_metric");
  if (curve.value.size() != curve.heads_pruned.size()) {
    throw InvalidInput(file.path() + ": " + kImportancePath +
                       "/curve_metric: expected as many steps as curve_heads_pruned (" +
                       std::to_string(curve.heads_pruned.size()) + ")");
  }
  const H5Id group = open_group(file, kImportancePath);
  const H5Where where{file.path(), kImportancePath};
  curve.metric = h5_read_string_attribute(group.get(), "metric", where).value_or("");
  curve.threshold = h5_read_double_attribute(group.get(), "threshold", where);
  curve.unpruned = h5_read_double_attribute(group.get(), "unpruned_metric", where);
  return curve;
}

AblationSummary read_ablation(const OpenFile& file, const HeadValues& mask) {
  AblationSummary out;
  out.mask = mask;
  const H5Id group = open_group(file, kAblationPath);
  const H5Where where{file.path(), kAblationPath};
  out.method = h5_read_string_attribute(group.get(), "method", where).value_or("");
  out.heads = h5_read_string_attribute(group.get(), "heads", where).value_or("");
  for (const char* name : kScoreNames) {
    const std::optional<double> baseline =
        h5_read_double_attribute(group.get(), std::string("baseline_") + name, where);
    const std::optional<double> ablated =
        h5_read_double_attribute(group.get(), std::string("ablated_") + name, where);
    if (baseline && ablated) out.scores.push_back({name, *baseline, *ablated});
  }
  return out;
}

}  // namespace

bool has_head_effects(const OpenFile& file) {
  auto lock = hdf5_lock();
  return has_path(file, kImportancePath) || has_path(file, kAblationPath);
}

HeadEffects read_head_effects(const OpenFile& file) {
  auto lock = hdf5_lock();
  const std::string importance = std::string(kImportancePath) + "/";
  const std::string ablation = std::string(kAblationPath) + "/";
  const std::string ablation_mask = ablation + "mask";
  HeadEffects out;
  std::optional<HeadValues> mask;
  for (const HeadQuantity& quantity : find_head_quantities(file)) {
    if (!starts_with(quantity.path, importance) && !starts_with(quantity.path, ablation)) continue;
    out.quantities.push_back(read_head_values(file, quantity));
    if (quantity.path == ablation_mask) mask = out.quantities.back();
  }
  std::stable_partition(
      out.quantities.begin(), out.quantities.end(),
      [&importance](const HeadValues& v) { return starts_with(v.quantity.path, importance); });
  if (has_path(file, importance + "curve_metric")) out.curve = read_pruning_curve(file);
  if (has_path(file, kAblationPath)) {
    if (!mask) {
      throw InvalidInput(file.path() + ": " + ablation_mask +
                         ": missing or not [layer, head] (docs/ABLATION.md)");
    }
    out.ablation = read_ablation(file, *mask);
  }
  if (out.quantities.empty()) {
    throw InvalidInput(file.path() + ": " + kImportancePath + " and " + kAblationPath +
                       " hold no [layer, head] dataset (docs/ABLATION.md)");
  }
  return out;
}

}  // namespace headscope::gui
