#include "core/checkpoint/sparse_model_config.h"

#include <algorithm>
#include <random>

#include "core/base/error.h"
#include "core/base/json_file.h"
#include "core/base/text_file.h"

namespace headscope {
namespace {

int64_t int_field(const nlohmann::json& object, const char* name, const std::string& where) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) {
    throw InvalidInput(where + "." + name + ": expected an integer");
  }
  return it->get<int64_t>();
}

SparseHeadConfig head_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InvalidInput(where + ": expected an object with a \"kind\"");
  auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string()) {
    throw InvalidInput(where + ".kind: expected \"full\", \"streaming\" or \"block_sparse\"");
  }
  SparseHeadConfig h;
  const std::string k = kind->get<std::string>();
  if (k == "full") {
    h.kind = SparseKind::kFull;
  } else if (k == "streaming") {
    h.kind = SparseKind::kStreaming;
    h.sink = int_field(j, "sink", where);
    h.window = int_field(j, "window", where);
    if (h.sink < 0 || h.window < 1) {
      throw InvalidInput(where + ": streaming needs sink >= 0 and window >= 1");
    }
  } else if (k == "block_sparse") {
    h.kind = SparseKind::kBlockSparse;
    h.block_size = int_field(j, "block_size", where);
    h.topk_blocks = int_field(j, "topk_blocks", where);
    if (h.block_size < 1 || h.topk_blocks < 0) {
      throw InvalidInput(where + ": block_sparse needs block_size >= 1 and topk_blocks >= 0");
    }
  } else {
    throw InvalidInput(where + ".kind: unknown kind \"" + k +
                       "\" (expected full, streaming or block_sparse)");
  }
  return h;
}

}  // namespace

const char* sparse_kind_name(SparseKind kind) {
  switch (kind) {
    case SparseKind::kFull:
      return "full";
    case SparseKind::kStreaming:
      return "streaming";
    case SparseKind::kBlockSparse:
      return "block_sparse";
  }
  HS_ASSERT(false && "unhandled sparse kind");
}

SparseModelConfig SparseModelConfig::dense(int64_t n_layers, int64_t n_heads) {
  SparseModelConfig c;
  c.n_layers = n_layers, c.n_heads = n_heads;
  c.heads.assign(static_cast<size_t>(n_layers),
                 std::vector<SparseHeadConfig>(static_cast<size_t>(n_heads)));
  return c;
}

double SparseModelConfig::sparse_head_fraction() const {
  int64_t sparse = 0, total = 0;
  for (const auto& layer : heads) {
    for (const auto& h : layer) sparse += h.kind != SparseKind::kFull, ++total;
  }
  return total == 0 ? 0.0 : static_cast<double>(sparse) / static_cast<double>(total);
}

SparseModelConfig shuffled_config(const SparseModelConfig& config, uint64_t seed) {
  std::vector<SparseHeadConfig> flat;
  for (const auto& layer : config.heads) flat.insert(flat.end(), layer.begin(), layer.end());
  std::mt19937_64 rng(seed);
  std::shuffle(flat.begin(), flat.end(), rng);
  SparseModelConfig out = config;
  out.parameters = {{"shuffled_from", config.parameters}, {"seed", seed}};
  size_t next = 0;
  for (auto& layer : out.heads) {
    for (auto& h : layer) h = flat[next++];
  }
  return out;
}

nlohmann::ordered_json sparse_config_to_json(const SparseModelConfig& config) {
  nlohmann::ordered_json out;
  out["format"] = "headscope-sparse";
  out["version"] = 1;
  out["n_layers"] = config.n_layers;
  out["n_heads"] = config.n_heads;
  auto layers = nlohmann::ordered_json::array();
  for (const auto& layer : config.heads) {
    auto row = nlohmann::ordered_json::array();
    for (const auto& h : layer) {
      nlohmann::ordered_json j;
      j["kind"] = sparse_kind_name(h.kind);
      if (h.kind == SparseKind::kStreaming) j["sink"] = h.sink, j["window"] = h.window;
      if (h.kind == SparseKind::kBlockSparse) {
        j["block_size"] = h.block_size, j["topk_blocks"] = h.topk_blocks;
      }
      row.push_back(std::move(j));
    }
    layers.push_back(std::move(row));
  }
  out["heads"] = std::move(layers);
  out["parameters"] = config.parameters;
  return out;
}

SparseModelConfig sparse_config_from_json(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object() || json.value("format", "") != "headscope-sparse") {
    throw InvalidInput(source +
                       ": not a headscope sparse config (expected \"format\": "
                       "\"headscope-sparse\")");
  }
  if (int_field(json, "version", source) != 1) {
    throw InvalidInput(source + ": sparse config version " +
                       std::to_string(json["version"].get<int64_t>()) + " is not supported (1)");
  }
  SparseModelConfig c;
  c.n_layers = int_field(json, "n_layers", source);
  c.n_heads = int_field(json, "n_heads", source);
  auto heads = json.find("heads");
  if (heads == json.end() || !heads->is_array() ||
      static_cast<int64_t>(heads->size()) != c.n_layers) {
    throw InvalidInput(source + ".heads: expected a list of " + std::to_string(c.n_layers) +
                       " layers");
  }
  for (size_t l = 0; l < heads->size(); ++l) {
    const auto& layer = (*heads)[l];
    const std::string where = source + ".heads[" + std::to_string(l) + "]";
    if (!layer.is_array() || static_cast<int64_t>(layer.size()) != c.n_heads) {
      throw InvalidInput(where + ": expected a list of " + std::to_string(c.n_heads) + " heads");
    }
    std::vector<SparseHeadConfig> row;
    for (size_t h = 0; h < layer.size(); ++h) {
      row.push_back(head_from_json(layer[h], where + "[" + std::to_string(h) + "]"));
    }
    c.heads.push_back(std::move(row));
  }
  if (json.contains("parameters")) c.parameters = json["parameters"];
  return c;
}

void write_sparse_config(const std::string& path, const SparseModelConfig& config) {
  write_text_file_atomically(path, sparse_config_to_json(config).dump(1) + "\n");
}

SparseModelConfig read_sparse_config(const std::string& path) {
  return sparse_config_from_json(read_json_file(path), path);
}

void check_config_matches_model(const SparseModelConfig& config, const ModelConfig& model,
                                const std::string& source) {
  if (config.n_layers != model.n_layers || config.n_heads != model.n_heads) {
    throw InvalidInput(source + ": the config is for " + std::to_string(config.n_layers) +
                       " layers x " + std::to_string(config.n_heads) + " heads, the model has " +
                       std::to_string(model.n_layers) + " x " + std::to_string(model.n_heads));
  }
}

}  // namespace headscope
