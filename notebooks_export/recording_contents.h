// What an exported recording holds, read once and shared by the README and notebook writers so
// that both describe the same runs, datasets and shapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/recording_reader.h"
#include "core/store/recording_schema.h"

namespace headscope {

struct DatasetShape {
  std::string name;  // relative to the run: "tokens", "attention_stats/entropy", ...
  std::vector<int64_t> shape;
};

struct RunContents {
  int64_t index = 0;
  int64_t n_tokens = 0;
  std::string prompt;
  std::string task;
  std::vector<DatasetShape> datasets;   // sorted by name
  std::vector<int64_t> pattern_layers;  // L of each blocks.L.attn.hook_pattern, ascending
  bool has_entropy_stats = false;       // attention_stats/entropy [L, H, T]

  bool has_attention() const { return !pattern_layers.empty() || has_entropy_stats; }
  // The shape of one of `datasets`; the name must be there.
  const std::vector<int64_t>& shape(const std::string& name) const;
  // "blocks.L.attn.hook_pattern" of the first recorded pattern layer; needs pattern_layers.
  std::string first_pattern() const;
};

struct RecordingContents {
  std::string source;  // the recording's path as given
  int format_version = 0;
  ModelSummary model;
  int64_t run_count = 0;
  // The first kRunsDescribed runs: a recording can hold thousands, and the README and the
  // notebook only need a few to show what is there.
  std::vector<RunContents> runs;

  // The run the notebook plots: the first described run with patterns or statistics, else run 0.
  const RunContents& featured_run() const;
};

inline constexpr int64_t kRunsDescribed = 8;

inline constexpr char kPatternHookSuffix[] = ".attn.hook_pattern";
inline const std::string kEntropyStats = attention_stats_path(kStatEntropy);

// Reads the model summary and the first kRunsDescribed runs. InvalidInput when the recording
// holds no committed run: there is nothing to explore.
RecordingContents survey_recording(const RecordingReader& reader, const std::string& source);

// A per-layer name "blocks.L<rest>" split into L and "<rest>" (".attn.hook_pattern").
struct LayerName {
  int64_t layer;
  std::string rest;
};
std::optional<LayerName> split_layer_name(const std::string& name);

}  // namespace headscope
