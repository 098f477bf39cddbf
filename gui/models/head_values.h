// Per-head quantities of a file: [layer, head] datasets of its analyses, and each run's
// attention statistics averaged over the queries. find_head_quantities lists them (metadata
// only); read_head_values reads one (on a worker thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/models/open_file.h"

namespace headscope::gui {

struct HeadQuantity {
  enum class Source {
    kLayerHead,     // a [layer, head] dataset, shown as stored
    kMeanOverQuery  // a [layer, head, query] attention statistic, averaged over its queries
  };
  std::string label;  // "retrieval_heads/retrieval_score", "run 0: mean entropy"
  std::string path;   // absolute in the file
  std::string unit;   // the colour bar's label
  int64_t run = -1;   // the run of an attention statistic; -1 for analyses
  Source source = Source::kLayerHead;
  std::string statistic;  // kMeanOverQuery: the statistic's dataset (kStatEntropy, ...)
};

// Values of one quantity, row-major [layer][head]; NaN where a head has no value. Immutable once
// read: the views share it between threads.
struct HeadValues {
  HeadQuantity quantity;
  int64_t layers = 0;
  int64_t heads = 0;
  std::vector<double> values;

  double at(int64_t layer, int64_t head) const {
    return values[static_cast<size_t>(layer * heads + head)];
  }
};

// Analyses first (by path), then each run's statistics. Takes hdf5_lock(); throws IoError when
// the file cannot be walked.
std::vector<HeadQuantity> find_head_quantities(const OpenFile& file);

// Reads one quantity, a layer at a time for the statistics. Takes hdf5_lock(); InvalidInput or
// IoError (naming the file and dataset) when the dataset is missing or not per head.
HeadValues read_head_values(const OpenFile& file, const HeadQuantity& quantity);

}  // namespace headscope::gui
