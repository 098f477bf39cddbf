#include "zoo/recipe.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analyses/tasks/generate_task.h"
#include "analyses/tasks/vocabulary.h"
#include "core/base/data_dir.h"
#include "core/base/error.h"
#include "core/base/text_file.h"

namespace headscope {
namespace {

using nlohmann::json;

std::filesystem::path recipe_dir() {
  return data_path("recipes", "the zoo's recipes");
}

// Typed access to one JSON object; errors name the recipe and the dotted field path.
class Fields {
 public:
  Fields(const json& object, std::string label, std::string prefix)
      : object_(object), label_(std::move(label)), prefix_(std::move(prefix)) {}

  int64_t integer(const char* key, int64_t min) const {
    const json& v = require(key);
    if (!v.is_number_integer() || v.get<int64_t>() < min) {
      fail(key, ("an integer >= " + std::to_string(min)).c_str(), v);
    }
    return v.get<int64_t>();
  }
  int64_t integer_or(const char* key, int64_t min, int64_t fallback) const {
    return object_.contains(key) ? integer(key, min) : fallback;
  }
  double number(const char* key, double min, double max) const {
    const json& v = require(key);
    if (!v.is_number() || v.get<double>() < min || v.get<double>() > max) {
      std::ostringstream expected;
      expected << "a number in [" << min << ", " << max << "]";
      fail(key, expected.str().c_str(), v);
    }
    return v.get<double>();
  }
  double number_or(const char* key, double min, double max, double fallback) const {
    return object_.contains(key) ? number(key, min, max) : fallback;
  }
  bool boolean(const char* key) const {
    const json& v = require(key);
    if (!v.is_boolean()) fail(key, "true or false", v);
    return v.get<bool>();
  }
  std::string string(const char* key) const {
    const json& v = require(key);
    if (!v.is_string() || v.get<std::string>().empty()) fail(key, "a non-empty string", v);
    return v.get<std::string>();
  }
  Fields object(const char* key) const {
    const json& v = require(key);
    if (!v.is_object()) fail(key, "an object", v);
    return Fields(v, label_, path(key) + ".");
  }
  const json& array(const char* key) const {
    const json& v = require(key);
    if (!v.is_array() || v.empty()) fail(key, "a non-empty array", v);
    return v;
  }
  Fields element(const char* key, size_t i) const {
    const json& v = object_.at(key).at(i);
    const std::string at = path(key) + "[" + std::to_string(i) + "]";
    if (!v.is_object()) throw InvalidInput(label_ + ": field " + at + ": expected an object");
    return Fields(v, label_, at + ".");
  }
  [[noreturn]] void fail(const char* key, const std::string& problem) const {
    throw InvalidInput(label_ + ": field " + path(key) + ": " + problem);
  }

 private:
  std::string path(const char* key) const { return prefix_ + key; }
  const json& require(const char* key) const {
    if (!object_.contains(key)) throw InvalidInput(label_ + ": missing field " + path(key));
    return object_.at(key);
  }
  [[noreturn]] void fail(const char* key, const char* expected, const json& got) const {
    fail(key, std::string("expected ") + expected + ", got " + got.dump());
  }

  const json& object_;
  std::string label_;
  std::string prefix_;
};

ModelConfig parse_model(const Fields& m) {
  ModelConfig c;
  c.family = Family::kLlama;
  c.model_type = "llama";
  c.n_layers = m.integer("layers", 1);
  c.n_heads = m.integer("heads", 1);
  c.n_kv_heads = m.integer_or("kv_heads", 1, c.n_heads);
  if (c.n_heads % c.n_kv_heads != 0) m.fail("kv_heads", "must divide heads");
  c.d_model = m.integer("d_model", 1);
  c.d_head = m.integer("d_head", 2);
  if (c.d_head % 2 != 0) m.fail("d_head", "must be even (rotary embeddings)");
  c.d_mlp = m.integer("d_mlp", 1);
  c.max_positions = m.integer("max_positions", 1);
  c.rope.theta = m.number_or("rope_theta", 1.0, 1e9, 10000.0);
  c.tied_embeddings = m.boolean("tied");
  c.norm_eps = 1e-5;
  return c;
}

TrainingSettings parse_training(const Fields& t) {
  TrainingSettings s;
  s.steps = t.integer("steps", 1);
  s.batch_size = t.integer("batch_size", 1);
  s.lr = t.number("lr", 1e-8, 10.0);
  s.warmup_steps = t.integer_or("warmup_steps", 0, 0);
  s.min_lr_ratio = t.number_or("min_lr_ratio", 0.0, 1.0, 0.1);
  s.weight_decay = t.number_or("weight_decay", 0.0, 10.0, 0.0);
  s.grad_clip = t.number_or("grad_clip", 0.0, 1e6, 1.0);
  s.seed = static_cast<uint64_t>(t.integer("seed", 0));
  s.eval_every = t.integer_or("eval_every", 0, 0);
  s.eval_samples = t.integer_or("eval_samples", 1, 64);
  s.checkpoint_every = t.integer_or("checkpoint_every", 0, 0);
  return s;
}

TaskMix parse_task(const Fields& f, int64_t max_positions) {
  TaskMix t;
  t.task = f.string("task");
  const auto& known = task_names();
  if (std::find(known.begin(), known.end(), t.task) == known.end()) {
    std::string list;
    for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
    f.fail("task", "unknown task " + t.task + " (known: " + list + ")");
  }
  t.weight = f.number_or("weight", 0.0, 1e9, 1.0);
  t.min_length = f.integer("min_length", 2);
  t.max_length = f.integer("max_length", 2);
  if (t.max_length < t.min_length) f.fail("max_length", "must be >= min_length");
  if (t.max_length > max_positions) f.fail("max_length", "exceeds model.max_positions");
  return t;
}

}  // namespace

Recipe parse_recipe(const std::string& json_text, const std::string& label) {
  const json root = json::parse(json_text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    throw InvalidInput(label + ": not a JSON object");
  }
  const Fields top(root, label, "");
  Recipe r;
  r.name = std::filesystem::path(label).stem().string();
  r.json_text = json_text;
  const Fields model = top.object("model");
  r.model = parse_model(model);
  // Every zoo model reads the task generators' word-level vocabulary.
  const Vocabulary& vocab = Vocabulary::builtin();
  r.model.vocab_size = vocab.size();
  r.special = SpecialTokens{vocab.bos(), vocab.eos(), vocab.pad()};
  r.model.bos_token_id = r.special.bos;
  r.model.eos_token_id = r.special.eos;
  r.training = parse_training(top.object("training"));
  const json& tasks = top.array("tasks");
  double total_weight = 0.0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    r.tasks.push_back(parse_task(top.element("tasks", i), r.model.max_positions));
    total_weight += r.tasks.back().weight;
  }
  if (total_weight <= 0.0) top.fail("tasks", "weights sum to zero");
  const Fields loss = top.object("loss");
  r.answer_weight = loss.number("answer", 0.0, 1e6);
  r.filler_weight = loss.number("filler", 0.0, 1e6);
  if (r.answer_weight + r.filler_weight <= 0.0) top.fail("loss", "both weights are zero");
  return r;
}

Recipe load_recipe(const std::string& name_or_path) {
  std::filesystem::path path(name_or_path);
  if (!std::filesystem::exists(path) && path.extension() != ".json") {
    path = recipe_dir() / (name_or_path + ".json");
    if (!std::filesystem::exists(path)) {
      std::string known;
      for (const auto& n : recipe_names()) known += (known.empty() ? "" : ", ") + n;
      throw InvalidInput("unknown recipe " + name_or_path + " (known: " + known + ")");
    }
  }
  return parse_recipe(read_text_file(path.string(), "recipe"), path.string());
}

std::vector<std::string> recipe_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(recipe_dir(), ec)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace headscope
