// The sparsity SNR analysis of a file (/analyses/sparsity_snr, docs/SNR.md) as the SNR view
// shows it: per head and block size the theoretical and measured SNR, per head, block size and
// k the router's measured and predicted recall@k, and the grid of block sizes at which a head
// reaches a target recall. Read whole: L x H x nB x nK numbers.
#pragma once

#include <cstdint>
#include <vector>

#include "gui/models/head_values.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

inline constexpr char kSnrPath[] = "/analyses/sparsity_snr";

struct SnrCurves {
  int64_t layers = 0, heads = 0;
  std::vector<double> block_sizes;               // [nB], the block_size scale's values
  std::vector<double> topk;                      // [nK], the topk scale's values
  std::vector<double> snr_theory, snr_measured;  // [L, H, nB]; NaN where nothing was routed
  std::vector<double> recall, predicted_recall;  // [L, H, nB, nK]

  // One head's curve over the block sizes.
  std::vector<double> snr_theory_of(int64_t layer, int64_t head) const;
  std::vector<double> snr_measured_of(int64_t layer, int64_t head) const;
  std::vector<double> recall_of(int64_t layer, int64_t head, size_t k) const;
  std::vector<double> predicted_recall_of(int64_t layer, int64_t head, size_t k) const;
};

// Metadata only; takes hdf5_lock().
bool has_snr_curves(const OpenFile& file);
// Takes hdf5_lock(). IoError or InvalidInput naming the file and dataset when one is missing or
// of another shape than docs/FORMAT.md ("Sparsity SNR") gives.
SnrCurves read_snr_curves(const OpenFile& file);

// Which block size of those reaching the target the grid shows.
enum class BlockChoice {
  kLargest,  // the coarsest routing that still finds the relevant block (sparse-config's rule)
  kSmallest
};

// Per head, the largest (or smallest) block size whose measured recall@topk[k] is at least
// `target`; NaN where none reaches it. Labelled "block size reaching recall@K".
HeadValues block_size_reaching(const SnrCurves& curves, size_t k, double target,
                               BlockChoice choice);

}  // namespace headscope::gui
