#include "gui/models/sparse_config_export.h"

#include <filesystem>

#include "core/base/error.h"

namespace headscope::gui {

SparseModelConfig sparse_eval_config(const SparseEvalConfigs& configs, size_t config) {
  SparseModelConfig out = SparseModelConfig::dense(configs.layers, configs.heads);
  const auto size = static_cast<size_t>(configs.layers * configs.heads);
  for (int64_t l = 0; l < configs.layers; ++l) {
    for (int64_t h = 0; h < configs.heads; ++h) {
      const size_t at = config * size + static_cast<size_t>(l * configs.heads + h);
      auto field = [&](SparseEvalConfigs::Field f) {
        return static_cast<int64_t>(configs.fields[f][at]);
      };
      SparseHeadConfig& head = out.heads[static_cast<size_t>(l)][static_cast<size_t>(h)];
      switch (field(SparseEvalConfigs::kKind)) {
        case static_cast<int64_t>(SparseKind::kFull):
          break;
        case static_cast<int64_t>(SparseKind::kStreaming):
          head = SparseHeadConfig::streaming(field(SparseEvalConfigs::kSink),
                                             field(SparseEvalConfigs::kWindow));
          break;
        case static_cast<int64_t>(SparseKind::kBlockSparse):
          head = SparseHeadConfig::block_sparse(field(SparseEvalConfigs::kBlockSize),
                                                field(SparseEvalConfigs::kTopkBlocks));
          break;
        default:
          throw InvalidInput(configs.path + ": " + kSparseEvalPath + "/head_kind: config " +
                             configs.names.at(config) + ", layer " + std::to_string(l) + " head " +
                             std::to_string(h) + ": unknown kind code " +
                             std::to_string(field(SparseEvalConfigs::kKind)) + " (" +
                             configs.kind_codes + ")");
      }
    }
  }
  out.parameters = {{"input", configs.path}};
  if (!configs.analysis.empty()) out.parameters["analysis"] = configs.analysis;
  out.parameters["config"] = configs.names.at(config);
  return out;
}

bool exportable_format(SparseFormat format) {
  return format == SparseFormat::kHeadscope || format == SparseFormat::kDuo;
}

std::string unexportable_reason(SparseFormat format) {
  if (exportable_format(format)) return "";
  return std::string(sparse_format_name(format)) +
         ": fitted to attention statistics, which a sparse-eval file does not hold; write it "
         "from the recording with `headscope sparse-config RECORDING --format " +
         sparse_format_name(format) + "`";
}

std::vector<std::string> export_sparse_eval_config(const SparseEvalConfigs& configs, size_t config,
                                                   SparseFormat format, const std::string& dir) {
  if (!exportable_format(format)) throw InvalidInput(unexportable_reason(format));
  const SparseModelConfig executable = sparse_eval_config(configs, config);
  const std::string source = configs.path + ": config " + configs.names.at(config);
  // Checked before the directory is made: a refused export leaves nothing behind.
  DuoConfig duo;
  if (format == SparseFormat::kDuo) {
    if (configs.kv_heads <= 0) {
      throw InvalidInput(source +
                         ": the model's KV heads are unknown (open a file of the "
                         "model) so DuoAttention's gates cannot be written");
    }
    duo = duo_config_of(executable, configs.kv_heads, source);
    duo.provenance = executable.parameters;
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw IoError(dir + ": cannot create the directory (" + error.message() + ")");
  if (format == SparseFormat::kDuo) return write_duo_config(dir, duo);
  const std::string path = (std::filesystem::path(dir) / kSparseConfigFile).string();
  write_sparse_config(path, executable);
  return {path};
}

}  // namespace headscope::gui
