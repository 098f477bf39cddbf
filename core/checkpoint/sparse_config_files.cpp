#include "core/checkpoint/sparse_config_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/base/error.h"
#include "core/base/json_file.h"
#include "core/base/text_file.h"

namespace headscope {
namespace {

std::string join(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

std::string head_name(int64_t layer, int64_t head) {
  return "layer " + std::to_string(layer) + " head " + std::to_string(head);
}

}  // namespace

const char* sparse_format_name(SparseFormat format) {
  switch (format) {
    case SparseFormat::kDuo:
      return "duo";
    case SparseFormat::kMoa:
      return "moa";
    case SparseFormat::kMInference:
      return "minference";
    case SparseFormat::kHeadscope:
      return "headscope";
  }
  HS_ASSERT(false && "unhandled format");
}

std::vector<std::string> write_duo_config(const std::string& dir, const DuoConfig& config) {
  std::string tsv;
  char cell[64];
  for (const std::vector<double>& row : config.gates) {
    for (size_t h = 0; h < row.size(); ++h) {
      std::snprintf(cell, sizeof cell, "%.18e", row[h]);
      tsv += (h ? "\t" : "") + std::string(cell);
    }
    tsv += "\n";
  }
  nlohmann::ordered_json json;
  json["sink_size"] = config.sink_size;
  json["recent_size"] = config.recent_size;
  json["sparsity"] = config.sparsity ? nlohmann::ordered_json(*config.sparsity) : nullptr;
  json["headscope"] = config.provenance;
  const std::string tsv_path = join(dir, kDuoGatesFile), json_path = join(dir, kDuoConfigFile);
  write_text_file_atomically(tsv_path, tsv);
  write_text_file_atomically(json_path, json.dump(2) + "\n");
  return {tsv_path, json_path};
}

SparseModelConfig read_duo_config(const std::string& dir, const ModelConfig& model) {
  const auto json_path = join(dir, kDuoConfigFile), tsv_path = join(dir, kDuoGatesFile);
  const auto json = read_json_file(json_path);
  int64_t sink = 0, recent = 0;
  for (auto [name, field] : {std::pair{"sink_size", &sink}, std::pair{"recent_size", &recent}}) {
    if (!json.contains(name) || !json[name].is_number_integer()) {
      throw InvalidInput(json_path + ": " + name + ": expected an integer");
    }
    *field = json[name].get<int64_t>();
  }
  if (sink < 0 || recent < 1) {
    throw InvalidInput(json_path + ": needs sink_size >= 0 and recent_size >= 1");
  }
  std::istringstream in(read_text_file(tsv_path));
  std::vector<std::vector<double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, '\t')) {
      try {
        row.push_back(std::stod(cell));
      } catch (const std::exception&) {
        throw InvalidInput(tsv_path + ": row " + std::to_string(rows.size()) + ": '" + cell +
                           "' is not a number");
      }
    }
    rows.push_back(std::move(row));
  }
  if (static_cast<int64_t>(rows.size()) != model.n_layers) {
    throw InvalidInput(tsv_path + ": " + std::to_string(rows.size()) + " rows, the model has " +
                       std::to_string(model.n_layers) + " layers");
  }
  auto config = SparseModelConfig::dense(model.n_layers, model.n_heads);
  const SparseHeadConfig streaming = SparseHeadConfig::streaming(sink, recent);
  const int64_t group = model.kv_group_size();
  for (int64_t l = 0; l < model.n_layers; ++l) {
    const auto& row = rows[static_cast<size_t>(l)];
    if (static_cast<int64_t>(row.size()) != model.n_kv_heads) {
      throw InvalidInput(tsv_path + ": row " + std::to_string(l) + " has " +
                         std::to_string(row.size()) + " columns, the model has " +
                         std::to_string(model.n_kv_heads) + " KV heads");
    }
    for (int64_t h = 0; h < model.n_heads; ++h) {
      if (std::clamp(row[static_cast<size_t>(h / group)], 0.0, 1.0) <= 0.5) {
        config.heads[static_cast<size_t>(l)][static_cast<size_t>(h)] = streaming;
      }
    }
  }
  config.parameters = {{"input", dir}, {"format", "duo"}};
  return config;
}

DuoConfig duo_config_of(const SparseModelConfig& config, int64_t n_kv_heads,
                        const std::string& source) {
  if (n_kv_heads < 1 || config.n_heads % n_kv_heads != 0) {
    throw InvalidInput(source + ": " + std::to_string(config.n_heads) +
                       " query heads do not form groups of " + std::to_string(n_kv_heads) +
                       " KV heads");
  }
  const int64_t group = config.n_heads / n_kv_heads;
  DuoConfig duo;
  std::optional<SparseHeadConfig> streaming;  // the first streaming head, which all must match
  int64_t gated = 0;
  for (int64_t l = 0; l < config.n_layers; ++l) {
    std::vector<double> row;
    for (int64_t kv = 0; kv < n_kv_heads; ++kv) {
      const SparseHeadConfig& first = config.heads[static_cast<size_t>(l)][kv * group];
      for (int64_t h = kv * group; h < (kv + 1) * group; ++h) {
        const SparseHeadConfig& head = config.heads[static_cast<size_t>(l)][h];
        const std::string where = source + ": " + head_name(l, h);
        if (head.kind == SparseKind::kBlockSparse) {
          throw InvalidInput(where + " is block-sparse; DuoAttention has full and streaming heads");
        }
        if (head.kind != first.kind) {
          throw InvalidInput(where + " differs from the other query heads of KV head " +
                             std::to_string(kv) + "; DuoAttention gates whole KV heads");
        }
        if (head.kind != SparseKind::kStreaming) continue;
        if (!streaming) streaming = head;
        if (head.sink != streaming->sink || head.window != streaming->window) {
          throw InvalidInput(where + " streams with sink " + std::to_string(head.sink) +
                             ", window " + std::to_string(head.window) + ", another with sink " +
                             std::to_string(streaming->sink) + ", window " +
                             std::to_string(streaming->window) +
                             "; DuoAttention has one sink_size and recent_size");
        }
      }
      row.push_back(first.kind == SparseKind::kFull ? 1.0 : 0.0);
      gated += first.kind == SparseKind::kFull ? 0 : 1;
    }
    duo.gates.push_back(std::move(row));
  }
  if (!streaming) {
    throw InvalidInput(source +
                       ": every head is full; DuoAttention's sink_size and recent_size would be "
                       "made up (export the headscope format)");
  }
  duo.sink_size = streaming->sink;
  duo.recent_size = streaming->window;
  duo.sparsity = static_cast<double>(gated) / static_cast<double>(config.n_layers * n_kv_heads);
  return duo;
}

SparseFormat sparse_config_folder_format(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) throw IoError(dir + ": not a directory");
  for (const auto& [file, format] :
       {std::pair{kSparseConfigFile, SparseFormat::kHeadscope},
        std::pair{kDuoGatesFile, SparseFormat::kDuo}, std::pair{kMoaFile, SparseFormat::kMoa},
        std::pair{kMInferenceFile, SparseFormat::kMInference}}) {
    if (std::filesystem::exists(join(dir, file), error)) return format;
  }
  throw InvalidInput(dir +
                     ": holds no sparse config (sparse_config.json or "
                     "full_attention_heads.tsv + config.json)");
}

SparseModelConfig read_executable_config(const std::string& dir, const ModelConfig& model) {
  SparseModelConfig config;
  switch (sparse_config_folder_format(dir)) {
    case SparseFormat::kHeadscope:
      config = read_sparse_config(join(dir, kSparseConfigFile));
      break;
    case SparseFormat::kDuo:
      config = read_duo_config(dir, model);
      break;
    case SparseFormat::kMoa:
    case SparseFormat::kMInference:
      throw InvalidInput(dir +
                         ": MoA and MInference configs are written for their own engines; "
                         "sparse-eval runs headscope (sparse_config.json) or DuoAttention "
                         "(full_attention_heads.tsv) configs");
  }
  check_config_matches_model(config, model, dir);
  return config;
}

}  // namespace headscope
