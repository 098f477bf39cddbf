#include "gui/models/sparse_config_folder.h"

#include <filesystem>

#include "core/base/error.h"
#include "core/checkpoint/sparse_config_files.h"
#include "core/checkpoint/sparse_model_config.h"

namespace headscope::gui {
namespace {

namespace fs = std::filesystem;

SparseEvalConfigs as_configs(const std::string& dir, const std::string& name,
                             const SparseModelConfig& config, int64_t kv_heads) {
  SparseEvalConfigs out;
  out.path = dir;
  out.analysis.clear();
  out.names = {name};
  out.layers = config.n_layers;
  out.heads = config.n_heads;
  out.kv_heads = kv_heads;
  out.kind_codes = "0 full, 1 streaming, 2 block_sparse";
  // As sparse-eval stores them: a field a head's kind has not is 0.
  for (const auto& layer : config.heads) {
    for (const SparseHeadConfig& head : layer) {
      const bool streaming = head.kind == SparseKind::kStreaming;
      const bool block = head.kind == SparseKind::kBlockSparse;
      out.fields[SparseEvalConfigs::kKind].push_back(streaming ? 1 : block ? 2 : 0);
      out.fields[SparseEvalConfigs::kBlockSize].push_back(
          block ? static_cast<double>(head.block_size) : 0);
      out.fields[SparseEvalConfigs::kTopkBlocks].push_back(
          block ? static_cast<double>(head.topk_blocks) : 0);
      out.fields[SparseEvalConfigs::kSink].push_back(streaming ? static_cast<double>(head.sink)
                                                               : 0);
      out.fields[SparseEvalConfigs::kWindow].push_back(streaming ? static_cast<double>(head.window)
                                                                 : 0);
    }
  }
  out.sparse_heads = {config.sparse_head_fraction()};
  return out;
}

}  // namespace

SparseEvalConfigs read_sparse_config_folder(const std::string& dir,
                                            const std::optional<ModelShape>& model) {
  const SparseFormat format = sparse_config_folder_format(dir);
  const char* name = sparse_format_name(format);
  switch (format) {
    case SparseFormat::kHeadscope: {
      const SparseModelConfig config =
          read_sparse_config((fs::path(dir) / kSparseConfigFile).string());
      const bool same_model =
          model && model->layers == config.n_layers && model->heads == config.n_heads;
      return as_configs(dir, name, config, same_model ? model->kv_heads : 0);
    }
    case SparseFormat::kDuo: {
      if (!model) {
        throw InvalidInput(dir +
                           ": DuoAttention's gates are per KV head; open a file of the "
                           "model (its recording or an analysis) to expand them to its "
                           "query heads");
      }
      if (model->kv_heads <= 0 || model->heads % model->kv_heads != 0) {
        throw InvalidInput(dir + ": the open model's " + std::to_string(model->heads) +
                           " heads do not split into " + std::to_string(model->kv_heads) +
                           " KV heads");
      }
      ModelConfig shape;
      shape.n_layers = model->layers;
      shape.n_heads = model->heads;
      shape.n_kv_heads = model->kv_heads;
      return as_configs(dir, name, read_duo_config(dir, shape), model->kv_heads);
    }
    case SparseFormat::kMoa:
    case SparseFormat::kMInference:
      break;
  }
  throw InvalidInput(dir + ": holds a " + name +
                     " config, fitted attention patterns rather than per-head kinds; the view "
                     "shows headscope and duo folders");
}

}  // namespace headscope::gui
