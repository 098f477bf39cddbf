#include "notebooks_export/recording_contents.h"

#include <algorithm>

#include "core/base/error.h"

namespace headscope {
namespace {

// prompt and task are optional for files written by other tools than `headscope record`.
std::string optional_attribute(const RecordingReader& reader, int64_t run,
                               const std::string& name) {
  try {
    return reader.attribute(run, name);
  } catch (const InvalidInput&) {
    return "";
  }
}

RunContents survey_run(const RecordingReader& reader, int64_t run) {
  RunContents contents;
  contents.index = run;
  contents.prompt = optional_attribute(reader, run, kAttrPrompt);
  contents.task = optional_attribute(reader, run, kAttrTask);
  for (const std::string& name : reader.datasets(run)) {
    contents.datasets.push_back({name, reader.shape(run, name)});
    const std::vector<int64_t>& shape = contents.datasets.back().shape;
    if (name == kTokens && shape.size() == 1) contents.n_tokens = shape[0];
    const std::optional<LayerName> layer_name = split_layer_name(name);
    if (layer_name && layer_name->rest == kPatternHookSuffix && shape.size() == 3) {
      contents.pattern_layers.push_back(layer_name->layer);
    }
    if (name == kEntropyStats && shape.size() == 3) contents.has_entropy_stats = true;
  }
  std::sort(contents.pattern_layers.begin(), contents.pattern_layers.end());
  return contents;
}

}  // namespace

const std::vector<int64_t>& RunContents::shape(const std::string& name) const {
  const auto dataset = std::find_if(datasets.begin(), datasets.end(),
                                    [&](const DatasetShape& d) { return d.name == name; });
  HS_ASSERT(dataset != datasets.end());
  return dataset->shape;
}

std::string RunContents::first_pattern() const {
  HS_ASSERT(!pattern_layers.empty());
  return "blocks." + std::to_string(pattern_layers.front()) + kPatternHookSuffix;
}

const RunContents& RecordingContents::featured_run() const {
  HS_ASSERT(!runs.empty());
  const auto with_attention = std::find_if(
      runs.begin(), runs.end(), [](const RunContents& run) { return run.has_attention(); });
  return with_attention != runs.end() ? *with_attention : runs.front();
}

RecordingContents survey_recording(const RecordingReader& reader, const std::string& source) {
  RecordingContents contents;
  contents.source = source;
  contents.format_version = reader.format_version();
  contents.model = reader.model();
  contents.run_count = reader.run_count();
  if (contents.run_count == 0) {
    throw InvalidInput(source + " holds no committed run; there is nothing to export");
  }
  for (int64_t run = 0; run < std::min(contents.run_count, kRunsDescribed); ++run) {
    contents.runs.push_back(survey_run(reader, run));
  }
  return contents;
}

std::optional<LayerName> split_layer_name(const std::string& name) {
  constexpr char kPrefix[] = "blocks.";
  constexpr size_t kPrefixLength = sizeof kPrefix - 1;
  // Nine digits keep the layer inside int64_t without an overflow check.
  constexpr size_t kMaxDigits = 9;
  if (name.compare(0, kPrefixLength, kPrefix) != 0) return std::nullopt;
  const size_t dot = name.find('.', kPrefixLength);
  if (dot == std::string::npos || dot == kPrefixLength || dot - kPrefixLength > kMaxDigits) {
    return std::nullopt;
  }
  int64_t layer = 0;
  for (size_t i = kPrefixLength; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    layer = layer * 10 + (name[i] - '0');
  }
  return LayerName{layer, name.substr(dot)};
}

}  // namespace headscope
