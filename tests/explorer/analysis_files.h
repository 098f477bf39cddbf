// Analysis groups the explorer's analysis views open, written with core/store's AnalysisWriter
// by the names and shapes of the analyses' writers (docs/ABLATION.md, docs/FORMAT.md), into a
// recording of explorer_files.h's model. Values are listed or simple functions of their indices, so
// tests compute what the views must show.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/explorer/explorer_files.h"

namespace headscope::test {

// /analyses/head_importance's `importance`, [layer, head] row-major: unsorted, distinct.
inline const std::vector<double> kImportance = {0.3, 0.9, 0.1, 0.5, 0.7, 0.2};
// Its pruning curve: heads pruned and the metric at each step; the threshold and the unpruned
// metric.
inline const std::vector<int64_t> kCurvePruned = {0, 1, 2, 3};
inline const std::vector<double> kCurveMetric = {0.96, 0.94, 0.88, 0.5};
constexpr double kThreshold = 0.9, kUnpruned = 0.96;
// /analyses/ablation: heads 0.1 and 1.1 ablated, accuracy and logit difference before and after.
constexpr double kBaselineAccuracy = 0.95, kAblatedAccuracy = 0.4;
constexpr double kBaselineLogitDiff = 3.5, kAblatedLogitDiff = -0.25;

inline bool ablated_head(int64_t /*layer*/, int64_t head) {
  return head == 1;
}

struct EffectsContents {
  bool importance = true;
  bool curve = true;
  bool ablation = true;
  bool ablation_mask = true;  // false: a group without its `mask` (a bad file)
};

inline void write_head_effects(const std::string& path, const EffectsContents& contents = {}) {
  write_recording(path, {RunContents{8, false, false}}, false);
  const std::vector<std::string> axes = {"layer", "head"};
  if (contents.importance) {
    AnalysisWriter out = AnalysisWriter::begin(path, "head_importance", explorer_model());
    std::vector<double> raw;
    std::vector<int64_t> pruned_at, mask;
    for (size_t i = 0; i < kImportance.size(); ++i) {
      raw.push_back(2 * kImportance[i]);
      pruned_at.push_back(kImportance[i] < 0.25 ? 1 : 0);
      mask.push_back(kImportance[i] < 0.25 ? 0 : 1);
    }
    out.write_f64("importance", {kLayers, kHeads}, kImportance, axes);
    out.write_f64("importance_raw", {kLayers, kHeads}, raw, axes);
    out.write_i64("pruned_at", {kLayers, kHeads}, pruned_at, axes);
    out.write_i64("mask", {kLayers, kHeads}, mask, axes);
    if (contents.curve) {
      const auto steps = static_cast<int64_t>(kCurvePruned.size());
      out.write_i64("curve_heads_pruned", {steps}, kCurvePruned, {"step"});
      out.write_f64("curve_metric", {steps}, kCurveMetric, {"step"});
      out.write_f64("curve_accuracy", {steps}, kCurveMetric, {"step"});
    }
    out.set_attribute("", "method", "michel2019");
    out.set_attribute("", "metric", "accuracy");
    out.set_attribute("", "threshold", kThreshold);
    out.set_attribute("", "unpruned_metric", kUnpruned);
    out.commit();
  }
  if (contents.ablation) {
    AnalysisWriter out = AnalysisWriter::begin(path, "ablation", explorer_model());
    std::vector<int64_t> mask, layers, heads;
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) {
        mask.push_back(ablated_head(l, h) ? 1 : 0);
        if (ablated_head(l, h)) layers.push_back(l), heads.push_back(h);
      }
    }
    if (contents.ablation_mask) out.write_i64("mask", {kLayers, kHeads}, mask, axes);
    const auto k = static_cast<int64_t>(layers.size());
    out.write_i64("ablated_layer", {k}, layers, {"ablated"});
    out.write_i64("ablated_head", {k}, heads, {"ablated"});
    out.set_attribute("", "method", "zero");
    out.set_attribute("", "heads", "0.1,1.1");
    out.set_attribute("", "baseline_accuracy", kBaselineAccuracy);
    out.set_attribute("", "ablated_accuracy", kAblatedAccuracy);
    out.set_attribute("", "baseline_logit_diff", kBaselineLogitDiff);
    out.set_attribute("", "ablated_logit_diff", kAblatedLogitDiff);
    out.commit();
  }
}

// /analyses/sparsity_snr (docs/FORMAT.md, "Sparsity SNR"): three block sizes, two k. Recall
// falls with the block size, faster for later heads; the last head routed nothing at the
// largest block size (NaN).
inline const std::vector<int64_t> kSnrBlockSizes = {16, 32, 64};
inline const std::vector<int64_t> kSnrTopK = {1, 2};

inline double snr_recall(int64_t layer, int64_t head, int64_t block, int64_t k) {
  const auto i = static_cast<double>(layer * kHeads + head);
  if (i == kLayers * kHeads - 1 && block == 2) return std::nan("");
  return std::min(1.0,
                  1 - 0.05 * static_cast<double>(block + 1) * i + 0.02 * static_cast<double>(k));
}
inline double snr_predicted_recall(int64_t layer, int64_t head, int64_t block, int64_t k) {
  return 0.9 * snr_recall(layer, head, block, k);
}
inline double snr_theory(int64_t layer, int64_t head, int64_t block) {
  return 4.0 / std::sqrt(static_cast<double>(kSnrBlockSizes[static_cast<size_t>(block)])) +
         0.1 * static_cast<double>(layer * kHeads + head);
}
inline double snr_measured(int64_t layer, int64_t head, int64_t block) {
  return 0.8 * snr_theory(layer, head, block);
}

struct SnrContents {
  bool predicted_recall = true;  // false: a group missing it (a bad file)
  int64_t recall_topk = 2;       // another value: recall of the wrong shape (a bad file)
};

// new_recording false: adds the group to an existing recording.
inline void write_sparsity_snr(const std::string& path, const SnrContents& contents = {},
                               bool new_recording = true) {
  if (new_recording) write_recording(path, {RunContents{8, false, false}}, false);
  AnalysisWriter out = AnalysisWriter::begin(path, "sparsity_snr", explorer_model());
  out.write_scale("block_size", kSnrBlockSizes);
  out.write_scale("topk", kSnrTopK);
  const auto nb = static_cast<int64_t>(kSnrBlockSizes.size());
  const auto nk = static_cast<int64_t>(kSnrTopK.size());
  std::vector<double> theory, measured, recall, predicted;
  for (int64_t l = 0; l < kLayers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) {
      for (int64_t b = 0; b < nb; ++b) {
        theory.push_back(snr_theory(l, h, b));
        measured.push_back(snr_measured(l, h, b));
        for (int64_t k = 0; k < contents.recall_topk; ++k) {
          recall.push_back(snr_recall(l, h, b, k));
        }
        for (int64_t k = 0; k < nk; ++k) predicted.push_back(snr_predicted_recall(l, h, b, k));
      }
    }
  }
  out.write_f64("snr_theory", {kLayers, kHeads, nb}, theory, {"layer", "head", "block_size"});
  out.write_f64("snr_measured", {kLayers, kHeads, nb}, measured, {"layer", "head", "block_size"});
  out.write_f64("recall", {kLayers, kHeads, nb, contents.recall_topk}, recall,
                contents.recall_topk == nk
                    ? std::vector<std::string>{"layer", "head", "block_size", "topk"}
                    : std::vector<std::string>{});
  if (contents.predicted_recall) {
    out.write_f64("predicted_recall", {kLayers, kHeads, nb, nk}, predicted,
                  {"layer", "head", "block_size", "topk"});
  }
  out.commit();
}

// /analyses/sparse_eval (docs/FORMAT.md): dense, then a config with streaming heads and one with
// block-sparse heads, at two lengths.
inline const std::vector<std::string> kSparseConfigs = {"dense", "retrieval@50.0%",
                                                        "random@50.0%#0"};
inline const std::vector<int64_t> kSparseLengths = {256, 512};

// 0 full, 1 streaming (sink 4, window 64 + head), 2 block_sparse (block 32 << layer, top 4).
inline int32_t sparse_kind(int64_t config, int64_t layer, int64_t head) {
  if (config == 0 || (layer * kHeads + head) % 2 == 1) return 0;
  return config == 1 ? 1 : 2;
}
inline double sparse_kept(int64_t config, int64_t length) {
  return config == 0 ? 1.0 : 0.5 / static_cast<double>(config) + 0.01 * static_cast<double>(length);
}
inline double sparse_accuracy(int64_t config, int64_t length) {
  return 1.0 - 0.25 * static_cast<double>(config) - 0.125 * static_cast<double>(length);
}

inline void write_sparse_eval(const std::string& path, bool with_kept_fraction = true,
                              bool new_recording = true) {
  if (new_recording) write_recording(path, {RunContents{8, false, false}}, false);
  AnalysisWriter out = AnalysisWriter::begin(path, "sparse_eval", explorer_model());
  out.write_scale("config", kSparseConfigs);
  out.write_scale("length", kSparseLengths);
  const auto c = static_cast<int64_t>(kSparseConfigs.size());
  const auto n = static_cast<int64_t>(kSparseLengths.size());
  std::vector<int32_t> kind;
  std::vector<int64_t> sink, window, block, topk;
  std::vector<double> sparse_heads, kept, accuracy;
  for (int64_t i = 0; i < c; ++i) {
    int64_t sparse = 0;
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) {
        const int32_t k = sparse_kind(i, l, h);
        sparse += k != 0 ? 1 : 0;
        kind.push_back(k);
        sink.push_back(k == 1 ? 4 : 0);
        window.push_back(k == 1 ? 64 + h : 0);
        block.push_back(k == 2 ? 32 << l : 0);
        topk.push_back(k == 2 ? 4 : 0);
      }
    }
    sparse_heads.push_back(static_cast<double>(sparse) / static_cast<double>(kLayers * kHeads));
    for (int64_t j = 0; j < n; ++j) {
      kept.push_back(sparse_kept(i, j));
      accuracy.push_back(sparse_accuracy(i, j));
    }
  }
  const std::vector<std::string> head_axes = {"config", "layer", "head"};
  out.write_array("head_kind", DType::kI32, {c, kLayers, kHeads}, kind.data(), head_axes);
  out.set_attribute("head_kind", "codes", "0 full, 1 streaming, 2 block_sparse");
  out.write_i64("head_sink", {c, kLayers, kHeads}, sink, head_axes);
  out.write_i64("head_window", {c, kLayers, kHeads}, window, head_axes);
  out.write_i64("head_block_size", {c, kLayers, kHeads}, block, head_axes);
  out.write_i64("head_topk_blocks", {c, kLayers, kHeads}, topk, head_axes);
  out.write_f64("sparse_heads", {c}, sparse_heads, {"config"});
  if (with_kept_fraction) out.write_f64("kept_fraction", {c, n}, kept, {"config", "length"});
  out.write_f64("accuracy", {c, n}, accuracy, {"config", "length"});
  out.commit();
}

}  // namespace headscope::test
