#include "core/store/same_model.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/store/recording_reader.h"

namespace headscope {
namespace {

// Keys transformers writes about the save itself, not the model.
constexpr const char* kSaveMetadataKeys[] = {"_name_or_path", "transformers_version"};

bool same_config(const std::string& recorded, const std::string& model) {
  if (recorded.empty() || recorded == model) return true;
  nlohmann::json a = nlohmann::json::parse(recorded, nullptr, false);
  nlohmann::json b = nlohmann::json::parse(model, nullptr, false);
  if (!a.is_object() || !b.is_object()) return false;
  for (const char* key : kSaveMetadataKeys) {
    a.erase(key);
    b.erase(key);
  }
  return a == b;
}

}  // namespace

std::string describe_model(const ModelSummary& model) {
  return model.family + ", " + std::to_string(model.n_layers) + " layers x " +
         std::to_string(model.n_heads) + " heads (" + std::to_string(model.n_kv_heads) +
         " kv), d_head " + std::to_string(model.d_head) + ", d_model " +
         std::to_string(model.d_model) + ", vocab " + std::to_string(model.vocab_size) +
         ", from " + (model.model_path.empty() ? std::string("an unnamed path") : model.model_path);
}

bool same_model(const ModelSummary& recorded, const ModelSummary& model) {
  if (recorded.family != model.family) return false;
  for (const ModelIntAttribute& attribute : kModelIntAttributes) {
    if (recorded.*attribute.field != model.*attribute.field) return false;
  }
  return same_config(recorded.config_json, model.config_json);
}

void check_same_model(const std::string& path, const ModelSummary& recorded,
                      const ModelSummary& model) {
  if (same_model(recorded, model)) return;
  std::string message = path + " holds a recording of " + describe_model(recorded) +
                        "; this model is " + describe_model(model);
  bool same_shape = recorded.family == model.family;
  for (const ModelIntAttribute& attribute : kModelIntAttributes) {
    same_shape = same_shape && recorded.*attribute.field == model.*attribute.field;
  }
  if (same_shape) message += " (same family and shape, another config.json)";
  throw InvalidInput(message + "; write to another file");
}

void check_recording_model(const std::string& path, const ModelSummary& model) {
  check_same_model(path, RecordingReader::open(path).model(), model);
}

void check_runs_match_model(const std::string& path) {
  const RecordingReader reader = RecordingReader::open(path);
  const ModelSummary model = reader.model();
  const std::map<std::string, int64_t> expected = {
      {"layer", model.n_layers},   {"head", model.n_heads},     {"kv_head", model.n_kv_heads},
      {"d_head", model.d_head},    {"d_model", model.d_model},  {"vocab", model.vocab_size}};
  const std::string other_model =
      ": the file's root attributes describe " + describe_model(model) +
      ", so this run was recorded from another model (added by a headscope that did not check "
      "--append); record the runs of each model into their own file";
  const int64_t runs = reader.run_count();
  for (int64_t run = 0; run < runs; ++run) {
    const std::string where = path + ": /runs/" + std::to_string(run) + "/";
    const std::vector<int32_t> tokens = reader.read_tokens(run);
    const auto largest = std::max_element(tokens.begin(), tokens.end());
    if (largest != tokens.end() && *largest >= model.vocab_size) {
      throw InvalidInput(where + "tokens holds id " + std::to_string(*largest) +
                         ", outside the vocabulary of " + std::to_string(model.vocab_size) +
                         other_model);
    }
    for (const std::string& name : reader.datasets(run)) {
      const std::vector<std::string> dimensions = dataset_dimensions(name);
      const std::vector<int64_t> shape = reader.shape(run, name);
      if (dimensions.size() != shape.size()) continue;
      for (size_t axis = 0; axis < shape.size(); ++axis) {
        const auto known = expected.find(dimensions[axis]);
        if (known == expected.end() || known->second == shape[axis]) continue;
        throw InvalidInput(where + name + " has " + std::to_string(shape[axis]) + " " +
                           dimensions[axis] + " entries on axis " + std::to_string(axis) +
                           other_model);
      }
    }
  }
}

}  // namespace headscope
