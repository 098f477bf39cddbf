#include "analyses/circuits/circuit_overlap_file.h"

#include <iterator>
#include <limits>

#include "core/base/error.h"
#include "core/store/circuit_schema.h"

namespace headscope {
namespace {

using Value = double (*)(const CircuitOverlap&);

// The value of each dataset of kCircuitOverlapDatasets, in its order; [a][b] holds the overlap
// of circuit_a with circuit_b, so `containment` is the share of circuit_a's heads in circuit_b.
constexpr Value kValues[] = {
    [](const CircuitOverlap& o) { return static_cast<double>(o.intersection); },
    [](const CircuitOverlap& o) { return static_cast<double>(o.union_size); },
    [](const CircuitOverlap& o) { return o.jaccard; },
    [](const CircuitOverlap& o) { return o.overlap_coefficient; },
    [](const CircuitOverlap& o) { return o.containment_a; },
    [](const CircuitOverlap& o) { return o.expected_intersection; },
    [](const CircuitOverlap& o) { return o.hypergeometric_p; },
    [](const CircuitOverlap& o) { return o.permutation_p; },
    [](const CircuitOverlap& o) { return o.permutation_mean; },
    [](const CircuitOverlap& o) { return o.permutation_low; },
    [](const CircuitOverlap& o) { return o.permutation_high; },
    [](const CircuitOverlap& o) { return static_cast<double>(o.rank_heads); },
    [](const CircuitOverlap& o) { return o.spearman.value; },
    [](const CircuitOverlap& o) { return o.spearman.p_value; },
    [](const CircuitOverlap& o) { return o.kendall.value; },
    [](const CircuitOverlap& o) { return o.kendall.p_value; },
};
static_assert(std::size(kValues) == std::size(kCircuitOverlapDatasets));

}  // namespace

std::vector<std::vector<CircuitOverlap>> overlap_matrix(const std::vector<const Circuit*>& circuits,
                                                        const OverlapOptions& options) {
  const size_t n = circuits.size();
  std::vector<std::vector<CircuitOverlap>> matrix(n, std::vector<CircuitOverlap>(n));
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = a; b < n; ++b) {
      const CircuitOverlap o = circuit_overlap(*circuits[a], *circuits[b], options);
      matrix[a][b] = o;
      CircuitOverlap mirrored = o;
      std::swap(mirrored.size_a, mirrored.size_b);
      std::swap(mirrored.containment_a, mirrored.containment_b);
      matrix[b][a] = mirrored;
    }
  }
  return matrix;
}

void write_circuit_overlap(const AnalysisTarget& target, const std::vector<OverlapEntry>& entries,
                           const std::vector<std::vector<CircuitOverlap>>& matrix,
                           const OverlapOptions& options,
                           const std::optional<CircuitSelection>& selection) {
  HS_ASSERT(!entries.empty() && matrix.size() == entries.size());
  const int64_t n = static_cast<int64_t>(entries.size());
  std::vector<std::string> labels, sources;
  std::vector<int64_t> sizes;
  for (const OverlapEntry& entry : entries) {
    labels.push_back(entry.label);
    sources.push_back(entry.source);
    sizes.push_back(entry.size);
  }
  AnalysisWriter out = AnalysisWriter::begin(target, kCircuitOverlapAnalysis);
  out.write_scale(kDimCircuitA, labels);
  out.write_scale(kDimCircuitB, labels);
  const std::vector<std::string> dims{kDimCircuitA, kDimCircuitB};
  for (size_t column = 0; column < std::size(kValues); ++column) {
    const CircuitOverlapDataset& dataset = kCircuitOverlapDatasets[column];
    std::vector<double> values;
    for (const auto& row : matrix) {
      for (const CircuitOverlap& o : row) values.push_back(kValues[column](o));
    }
    if (dataset.integer) {
      // Counts: exact in a double, stored as int64.
      out.write_i64(dataset.name, {n, n}, std::vector<int64_t>(values.begin(), values.end()), dims);
    } else {
      out.write_f64(dataset.name, {n, n}, values, dims);
    }
  }
  out.write_i64(kCircuitOverlapSize, {n}, sizes, {kDimCircuitA});
  out.write_strings(kCircuitOverlapSource, sources, kDimCircuitA);
  out.set_attribute("", kAttrOverlapHeads, matrix[0][0].heads);
  out.set_attribute("", kAttrOverlapPermutations, options.permutations);
  out.set_attribute("", kAttrOverlapSeed, static_cast<int64_t>(options.seed));
  out.set_attribute("", kAttrOverlapInterval, options.interval);
  out.set_attribute("", kAttrSelection, selection ? selection->rule : "each circuit's own");
  out.set_attribute("", kAttrSelectionTopK, selection ? selection->top_k : 0);
  out.set_attribute("", kAttrSelectionThreshold,
                    selection ? selection->threshold : std::numeric_limits<double>::quiet_NaN());
  out.set_attribute("", kAttrSelectionAbs, selection && selection->abs ? 1 : 0);
  out.commit();
}

}  // namespace headscope
