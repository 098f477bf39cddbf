// The HDF5 group of a sparsity SNR run, /analyses/sparsity_snr (layout in core/store/snr_schema.h
// and docs/FORMAT.md): per head and block size the measured and predicted routing numbers, per
// query the relevant block's rank, every parameter and rule as attributes.
#pragma once

#include <cstdint>
#include <string>

#include "analyses/snr/sparsity_snr.h"
#include "core/store/analysis_writer.h"

namespace headscope {

// Where the samples came from and how the model ran, recorded beside the result.
struct SnrSource {
  std::string task;     // "niah", "induction", "ioi", or "dataset"
  std::string dataset;  // the --dataset file ("" for a task)
  int64_t samples = 0;
  int64_t length = 0;
  uint64_t seed = 0;
  std::string device, dtype;
  double attention_scale = 0.0;
};

void write_sparsity_snr(const AnalysisTarget& target, const SnrResult& result,
                        const SnrSource& source);

}  // namespace headscope
