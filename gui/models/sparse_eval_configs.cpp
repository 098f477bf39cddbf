#include "gui/models/sparse_eval_configs.h"

#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/hdf5_handle.h"
#include "gui/models/hdf5_lock.h"
#include "gui/models/number_array.h"

namespace headscope::gui {
namespace {

// The datasets of the fields, in Field order.
constexpr const char* kFieldDatasets[] = {"head_kind", "head_block_size", "head_topk_blocks",
                                          "head_sink", "head_window"};
constexpr const char* kFieldNames[] = {"kind", "block size", "top-k blocks", "sink", "window"};

std::string dataset_path(const std::string& name) {
  return std::string(kSparseEvalPath) + "/" + name;
}

}  // namespace

const char* sparse_field_name(SparseEvalConfigs::Field field) {
  return kFieldNames[field];
}

HeadValues SparseEvalConfigs::head_field(size_t config, Field field) const {
  HeadValues out;
  out.quantity.label = "sparse_eval/" + names.at(config) + ": " + kFieldNames[field];
  out.quantity.path = dataset_path(kFieldDatasets[field]);
  out.layers = layers;
  out.heads = heads;
  const size_t size = static_cast<size_t>(layers * heads);
  out.values.assign(fields[field].begin() + static_cast<std::ptrdiff_t>(config * size),
                    fields[field].begin() + static_cast<std::ptrdiff_t>((config + 1) * size));
  return out;
}

bool has_sparse_eval_configs(const OpenFile& file) {
  auto lock = hdf5_lock();
  return has_path(file, kSparseEvalPath);
}

SparseEvalConfigs read_sparse_eval_configs(const OpenFile& file) {
  auto lock = hdf5_lock();
  SparseEvalConfigs out;
  out.path = file.path();
  out.kv_heads = file.reader().model().n_kv_heads;
  out.names = read_string_array(file, dataset_path("config"));
  NumberArray lengths = read_number_array(file, dataset_path("length"));
  out.lengths = std::move(lengths.values);
  NumberArray kind = read_number_array(file, dataset_path(kFieldDatasets[0]));
  const auto c = static_cast<int64_t>(out.names.size());
  const auto n = static_cast<int64_t>(out.lengths.size());
  if (kind.shape.size() != 3 || kind.shape[0] != c) {
    throw InvalidInput(file.path() + ": " + dataset_path(kFieldDatasets[0]) + ": expected [" +
                       std::to_string(c) + ", layer, head] (config, layer, head), found " +
                       shape_text(kind.shape));
  }
  out.layers = kind.shape[1];
  out.heads = kind.shape[2];
  out.fields[SparseEvalConfigs::kKind] = std::move(kind.values);
  for (int f = 1; f < SparseEvalConfigs::kFieldCount; ++f) {
    out.fields[f] = read_shaped_array(file, dataset_path(kFieldDatasets[f]),
                                      {c, out.layers, out.heads}, "config, layer, head");
  }
  out.sparse_heads = read_shaped_array(file, dataset_path("sparse_heads"), {c}, "config");
  out.kept_fraction =
      read_shaped_array(file, dataset_path("kept_fraction"), {c, n}, "config, length");
  out.accuracy = read_shaped_array(file, dataset_path("accuracy"), {c, n}, "config, length");
  const std::string kind_path = dataset_path(kFieldDatasets[0]);
  const H5Where where{file.path(), kind_path};
  const H5Id dataset = h5_own(H5Dopen2(file.handle(), kind_path.c_str(), H5P_DEFAULT),
                              H5Kind::kDataset, where, "open dataset");
  out.kind_codes = h5_read_string_attribute(dataset.get(), "codes", where).value_or("");
  return out;
}

}  // namespace headscope::gui
