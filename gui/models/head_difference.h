// Two per-head quantities compared head by head (the compare view): of two files (dense and
// sparse-config runs, ablated and intact, two models of one family) or two runs of one file.
#pragma once

#include "gui/models/head_values.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

struct HeadComparison {
  HeadValues a, b;
  HeadValues difference;  // a - b; NaN where either has no value
};

// InvalidInput naming both quantities when their [layer, head] shapes differ.
HeadValues head_difference(const HeadValues& a, const HeadValues& b);

// Reads both (read_head_values; takes hdf5_lock()) and their difference.
HeadComparison compare_head_values(const OpenFile& file_a, const HeadQuantity& a,
                                   const OpenFile& file_b, const HeadQuantity& b);

}  // namespace headscope::gui
