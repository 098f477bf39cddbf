// Files the explorer tests open, written with core/store's writers: a recording of a 2-layer,
// 3-head model with patterns, attention statistics and an analysis, and the ways a file can be
// bad. Values are simple functions of their indices, so tests compute what the views must show.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/dtype.h"
#include "core/store/analysis_writer.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/recording_schema.h"
#include "core/store/recording_writer.h"

namespace headscope::test {

constexpr int64_t kLayers = 2, kHeads = 3;

inline ModelSummary explorer_model() {
  ModelSummary model;
  model.family = "llama";
  model.n_layers = kLayers;
  model.n_heads = kHeads;
  model.n_kv_heads = kHeads;
  model.d_head = 4;
  model.d_model = 12;
  model.vocab_size = 50;
  model.model_path = "/models/explorer-test";
  model.config_json = "{}";
  return model;
}

// A causal pattern whose rows sum to 1: query q gives key k <= q a weight growing with k, more
// steeply for later layers and heads.
inline float pattern_value(int64_t layer, int64_t head, int64_t q, int64_t k) {
  if (k > q) return 0.0f;
  const double rate = 0.2 + 0.3 * static_cast<double>(layer * kHeads + head);
  double total = 0;
  for (int64_t j = 0; j <= q; ++j) total += std::exp(rate * static_cast<double>(j));
  return static_cast<float>(std::exp(rate * static_cast<double>(k)) / total);
}

// A per-query statistic: distinct for every layer, head, query and statistic.
inline float statistic_value(int stat, int64_t layer, int64_t head, int64_t q) {
  return static_cast<float>(0.5 * stat + 0.1 * layer + 0.01 * head) +
         0.001f * static_cast<float>(q % 97);
}

// Top-k lists (k = 2) of the statistics: query q's keys are q, then q - 1 (none for query 0,
// written as key 1 with probability 0, as a top-k of a causal row gives).
constexpr int64_t kTopK = 2;
inline int32_t topk_key(int64_t q, int64_t j) {
  return static_cast<int32_t>(q >= j ? q - j : q + j);
}
inline float topk_value(int64_t layer, int64_t head, int64_t q, int64_t j) {
  if (q < j) return 0.0f;
  return (j == 0 ? 0.5f : 0.25f) + 0.01f * static_cast<float>(layer * kHeads + head) +
         0.001f * static_cast<float>(q % 7);
}

inline double analysis_score(int64_t layer, int64_t head) {
  return 0.25 * static_cast<double>(layer) - 0.125 * static_cast<double>(head) + 0.0625;
}

struct RunContents {
  int64_t tokens = 8;
  bool patterns = true;
  bool statistics = true;
  int64_t block_size = 4;
};

inline const char* const kStatisticNames[] = {kStatEntropy, kStatSinkMass, kStatLocalMass,
                                              kStatMaxProb};

// t tokens (ids i % 50) with their text "tok<i>".
inline void write_test_tokens(RunWriter& run, int64_t t) {
  std::vector<int32_t> tokens;
  std::vector<std::string> text;
  for (int64_t i = 0; i < t; ++i) {
    tokens.push_back(static_cast<int32_t>(i % 50));
    text.push_back("tok" + std::to_string(i));
  }
  run.write_tokens(tokens);
  run.write_token_text(text);
}

inline void write_run(RecordingWriter& writer, const RunContents& contents) {
  RunWriter run = writer.begin_run();
  const int64_t t = contents.tokens;
  write_test_tokens(run, t);
  run.set_attribute(kAttrPrompt, "explorer test");
  if (contents.patterns) {
    for (int64_t layer = 0; layer < kLayers; ++layer) {
      std::vector<float> pattern;
      for (int64_t h = 0; h < kHeads; ++h) {
        for (int64_t q = 0; q < t; ++q) {
          for (int64_t k = 0; k < t; ++k) pattern.push_back(pattern_value(layer, h, q, k));
        }
      }
      run.write_array("blocks." + std::to_string(layer) + ".attn.hook_pattern", DType::kF32,
                      {kHeads, t, t}, DType::kF32, pattern.data());
    }
  }
  if (contents.statistics) {
    for (int stat = 0; stat < 4; ++stat) {
      std::vector<float> values;
      for (int64_t l = 0; l < kLayers; ++l) {
        for (int64_t h = 0; h < kHeads; ++h) {
          for (int64_t q = 0; q < t; ++q) values.push_back(statistic_value(stat, l, h, q));
        }
      }
      run.write_array(attention_stats_path(kStatisticNames[stat]), DType::kF32,
                      {kLayers, kHeads, t}, DType::kF32, values.data());
    }
    std::vector<int32_t> topk_index;
    std::vector<float> topk_prob;
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) {
        for (int64_t q = 0; q < t; ++q) {
          for (int64_t j = 0; j < kTopK; ++j) {
            topk_index.push_back(topk_key(q, j));
            topk_prob.push_back(topk_value(l, h, q, j));
          }
        }
      }
    }
    run.write_array(attention_stats_path(kStatTopkIndex), DType::kI32, {kLayers, kHeads, t, kTopK},
                    DType::kI32, topk_index.data());
    run.write_array(attention_stats_path(kStatTopkProb), DType::kF32, {kLayers, kHeads, t, kTopK},
                    DType::kF32, topk_prob.data());
    const int64_t blocks = (t + contents.block_size - 1) / contents.block_size;
    for (int64_t l = 0; l < kLayers; ++l) {
      std::vector<float> mass;
      for (int64_t h = 0; h < kHeads; ++h) {
        for (int64_t qb = 0; qb < blocks; ++qb) {
          for (int64_t kb = 0; kb < blocks; ++kb) {
            mass.push_back(kb <= qb ? static_cast<float>(kb + 1) /
                                          static_cast<float>((qb + 1) * (qb + 2) / 2)
                                    : 0.0f);
          }
        }
      }
      run.write_array(block_mass_path(l), DType::kF32, {kHeads, blocks, blocks}, DType::kF32,
                      mass.data());
    }
    run.set_attribute(kAttentionStats, kAttrBlockSize, contents.block_size);
    run.set_attribute(kAttentionStats, kAttrSink, int64_t{1});
    run.set_attribute(kAttentionStats, kAttrWindow, int64_t{2});
    run.set_attribute(kAttentionStats, kAttrTopK, kTopK);
  }
  run.commit();
}

// A recording with one run of each contents, then (analysis) a [layer, head] analysis.
inline void write_recording(const std::string& path, const std::vector<RunContents>& runs,
                            bool analysis = true) {
  {
    RecordingWriter writer = RecordingWriter::create(path, explorer_model());
    for (const RunContents& contents : runs) write_run(writer, contents);
    writer.finish();
  }
  if (analysis) {
    AnalysisWriter out = AnalysisWriter::begin(path, "retrieval_heads", explorer_model());
    std::vector<double> scores;
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) scores.push_back(analysis_score(l, h));
    }
    out.write_f64("retrieval_score", {kLayers, kHeads}, scores, {"layer", "head"});
    out.set_attribute("", "threshold", 0.1);
    out.commit();
  }
}

// Causal and uniform: query q gives each of its q + 1 keys 1 / (q + 1).
inline float uniform_value(int64_t q, int64_t k) {
  return k <= q ? 1.0f / static_cast<float>(q + 1) : 0.0f;
}

// One run of t tokens whose every head's hook_pattern is uniform_value: cheap to write at any
// length, and a second model's attention beside write_recording's.
inline void write_uniform_recording(const std::string& path, int64_t t) {
  RecordingWriter writer = RecordingWriter::create(path, explorer_model());
  RunWriter run = writer.begin_run();
  write_test_tokens(run, t);
  std::vector<float> pattern;
  for (int64_t h = 0; h < kHeads; ++h) {
    for (int64_t q = 0; q < t; ++q) {
      for (int64_t k = 0; k < t; ++k) pattern.push_back(uniform_value(q, k));
    }
  }
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    run.write_array("blocks." + std::to_string(layer) + ".attn.hook_pattern", DType::kF32,
                    {kHeads, t, t}, DType::kF32, pattern.data());
  }
  run.commit();
  writer.finish();
}

inline void write_text_file(const std::string& path) {
  std::ofstream(path) << "not an HDF5 file\n";
}

// The first half of a valid recording.
inline void write_truncated_recording(const std::string& path) {
  write_recording(path, {RunContents{}});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
}

inline void write_newer_version_recording(const std::string& path) {
  write_recording(path, {RunContents{}}, false);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  h5_write_int_attribute(file, kAttrFormat, 99, {path, "/"});
  H5Fclose(file);
}

}  // namespace headscope::test
