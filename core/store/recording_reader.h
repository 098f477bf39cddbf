// Reads recordings in the format of core/store/recording_schema.h. Runs are the committed ones,
// addressed by their index i in /runs/<i>; partial runs are invisible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/hdf5_handle.h"
#include "core/store/recording_schema.h"
#include "core/store/recording_structure_check.h"

namespace headscope {

class RecordingReader {
 public:
  // IoError when the file is missing or not HDF5; InvalidInput when it is not a recording or
  // was written by a newer format version.
  static RecordingReader open(const std::string& path);
  // The same for a file image in memory (tests, the fuzz target); `label` names it in errors.
  // check_timeout_s bounds the structure check (core/store/recording_structure_check.h).
  static RecordingReader open_image(const void* data, size_t size, const std::string& label,
                                    double check_timeout_s = kStructureCheckTimeoutS);

  int format_version() const { return format_version_; }
  ModelSummary model() const;
  int64_t run_count() const;

  // Datasets of the run, as paths relative to the run ("tokens", "blocks.0.attn.hook_pattern",
  // "attention_stats/entropy"), sorted; dimension scales (pos, head, ...) are left out.
  std::vector<std::string> datasets(int64_t run) const;
  // The recorded hook points of the run (datasets() that are hook names: no tokens, token_text,
  // logits, attention_stats or dimension scales), sorted.
  std::vector<std::string> hooks(int64_t run) const;
  // Whether the run has a dataset or group at that path ("attention_stats", "logits").
  bool has(int64_t run, const std::string& name) const;
  std::vector<int64_t> shape(int64_t run, const std::string& name) const;
  // The dimension name of each axis of a dataset ("head", "query", "key"); "" for an axis
  // without a dimension scale.
  std::vector<std::string> dimensions(int64_t run, const std::string& name) const;

  // A floating-point dataset as float32, row-major; float16 widens exactly.
  std::vector<float> read_f32(int64_t run, const std::string& name) const;
  // The box [start, start + count) of a floating-point dataset, row-major; one head of a
  // [n_heads, T, T] pattern is start {head, 0, 0}, count {1, T, T}.
  std::vector<float> read_f32_slice(int64_t run, const std::string& name,
                                    const std::vector<int64_t>& start,
                                    const std::vector<int64_t>& count) const;
  // One head's [T, S] map of a [n_heads, T, S] dataset (hook_pattern, hook_attn_scores),
  // reading only that head's chunks; InvalidInput when head is out of range.
  std::vector<float> read_head(int64_t run, const std::string& pattern_name, int64_t head) const;
  // An integer dataset (argmax, topk_index, tokens) as int32, whole or a box as read_f32_slice.
  std::vector<int32_t> read_i32(int64_t run, const std::string& name) const;
  std::vector<int32_t> read_i32_slice(int64_t run, const std::string& name,
                                      const std::vector<int64_t>& start,
                                      const std::vector<int64_t>& count) const;

  std::vector<int32_t> read_tokens(int64_t run) const;
  std::vector<std::string> read_token_text(int64_t run) const;
  // A string attribute of the run (prompt, task, ...); InvalidInput when it is absent.
  std::string attribute(int64_t run, const std::string& name) const;
  // An integer attribute of a dataset or group of the run (object relative to the run, ""
  // for the run itself), e.g. ("attention_stats", "block_size"); InvalidInput when absent.
  int64_t int_attribute(int64_t run, const std::string& object, const std::string& name) const;

 private:
  RecordingReader(std::string path, H5Id file, int format_version);

  H5Where where(int64_t run, const std::string& name) const;
  H5Id open_runs() const;
  H5Id open_run(int64_t run) const;
  H5Id open_dataset(int64_t run, const std::string& name) const;
  // The dataset or group at a path relative to the run ("" is the run); InvalidInput if absent.
  H5Id open_object(int64_t run, const std::string& name) const;

  std::string path_;
  H5Id file_;
  int format_version_;
};

}  // namespace headscope
