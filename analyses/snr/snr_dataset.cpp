#include "analyses/snr/snr_dataset.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/json_file.h"

namespace headscope {
namespace {

using nlohmann::json;

// InvalidInput naming the first field of `object` that is not in `allowed`; `where` is
// "FILE:LINE", `prefix` the object's own field path.
void check_fields(const json& object, const std::vector<std::string>& allowed,
                  const std::string& where, const std::string& prefix) {
  for (const auto& item : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
      std::string expected;
      for (const auto& name : allowed) expected += (expected.empty() ? "" : ", ") + name;
      throw InvalidInput(where + ": " + prefix + item.key() + ": unknown field; expected " +
                         expected);
    }
  }
}

const json& array_field(const json& object, const std::string& name, const std::string& where,
                        const std::string& field) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_array() || it->empty()) {
    throw InvalidInput(where + ": " + field + ": expected a non-empty list");
  }
  return *it;
}

int64_t integer_field(const json& value, int64_t low, int64_t high, const std::string& where,
                      const std::string& field, const std::string& meaning) {
  if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high) {
    throw InvalidInput(where + ": " + field + ": expected " + meaning + " in [" +
                       std::to_string(low) + ", " + std::to_string(high) + "], got " +
                       value.dump());
  }
  return value.get<int64_t>();
}

// One line's object, its fields already among tokens and queries (read_json_lines).
void read_record(const json& record, const std::string& where, const ModelConfig& config,
                 SnrPrompts& out) {
  TaskSample sample;
  sample.task = "dataset";
  const json& tokens = array_field(record, "tokens", where, "tokens");
  const auto length = static_cast<int64_t>(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    sample.tokens.push_back(
        static_cast<int32_t>(integer_field(tokens[i], 0, config.vocab_size - 1, where,
                                           "tokens[" + std::to_string(i) + "]", "a token id,")));
  }
  const auto index = static_cast<int64_t>(out.samples.size());
  const json& queries = array_field(record, "queries", where, "queries");
  for (size_t q = 0; q < queries.size(); ++q) {
    const std::string field = "queries[" + std::to_string(q) + "]";
    if (!queries[q].is_object()) {
      throw InvalidInput(where + ": " + field + ": expected an object with position and relevant");
    }
    check_fields(queries[q], {"position", "relevant"}, where, field + ".");
    const auto position_it = queries[q].find("position");
    if (position_it == queries[q].end()) {
      throw InvalidInput(where + ": " + field + ".position: missing; expected a token position");
    }
    SnrQuery query;
    query.sample = index;
    query.position = integer_field(*position_it, 0, length - 1, where, field + ".position",
                                   "a position in the sample,");
    const json& relevant = array_field(queries[q], "relevant", where, field + ".relevant");
    for (size_t r = 0; r < relevant.size(); ++r) {
      query.relevant.push_back(integer_field(relevant[r], 0, query.position, where,
                                             field + ".relevant[" + std::to_string(r) + "]",
                                             "a key position at or before the query's,"));
    }
    std::sort(query.relevant.begin(), query.relevant.end());
    query.relevant.erase(std::unique(query.relevant.begin(), query.relevant.end()),
                         query.relevant.end());
    out.queries.push_back(std::move(query));
  }
  out.longest = std::max(out.longest, length);
  out.samples.push_back(std::move(sample));
}

}  // namespace

SnrPrompts read_snr_dataset(const std::string& path, const ModelConfig& config) {
  SnrPrompts dataset;
  read_json_lines(path, "--dataset", {"tokens", "queries"},
                  [&](const json& record, const std::string& where) {
                    read_record(record, where, config, dataset);
                  });
  return dataset;
}

}  // namespace headscope
