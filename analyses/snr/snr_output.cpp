#include "analyses/snr/snr_output.h"

#include <functional>
#include <map>

#include "core/base/error.h"
#include "core/store/snr_schema.h"

namespace headscope {
namespace {

std::vector<std::string> dimensions_of(const SnrDataset& d) {
  std::vector<std::string> out;
  std::string current;
  for (const char* c = d.dimensions;; ++c) {
    if (*c == ' ' || *c == '\0') {
      out.push_back(current);
      current.clear();
      if (*c == '\0') break;
    } else {
      current += *c;
    }
  }
  return out;
}

}  // namespace

void write_sparsity_snr(const AnalysisTarget& target, const SnrResult& r, const SnrSource& source) {
  const std::vector<int64_t>& sizes = r.options.block_sizes;
  const std::vector<int64_t>& topk = r.options.topk;
  const auto n_blocks = static_cast<int64_t>(sizes.size());
  const auto n_k = static_cast<int64_t>(topk.size());
  const auto n_q = static_cast<int64_t>(r.queries.size());
  const std::map<std::string, std::vector<int64_t>> shape_of = {{"layer", {r.layers}},
                                                                {"head", {r.heads}},
                                                                {kDimBlockSize, {n_blocks}},
                                                                {kDimTopK, {n_k}},
                                                                {kDimQuery, {n_q}}};

  // Each dataset's values, in kSnrDatasets' order.
  std::map<std::string, std::vector<double>> real;
  std::map<std::string, std::vector<int64_t>> integer;
  real["delta_mu"] = r.delta_mu;
  real["sigma"] = r.sigma;
  real["snr_theory"] = r.snr_theory;
  const auto per_block = [&](const std::function<double(const RoutingSummary&)>& field) {
    std::vector<double> v;
    for (const RoutingSummary& s : r.summaries) v.push_back(field(s));
    return v;
  };
  real["delta_mu_eff"] = per_block([](const RoutingSummary& s) { return s.delta_mu_eff; });
  real["sigma_block"] = per_block([](const RoutingSummary& s) { return s.sigma_block; });
  real["snr_measured"] = per_block([](const RoutingSummary& s) { return s.snr_measured; });
  real["mean_rank"] = per_block([](const RoutingSummary& s) { return s.mean_rank; });
  real["pairwise_error"] = per_block([](const RoutingSummary& s) { return s.pairwise_error; });
  real["predicted_error"] = per_block([](const RoutingSummary& s) { return s.predicted_error; });
  for (const RoutingSummary& s : r.summaries) {
    real["recall"].insert(real["recall"].end(), s.recall.begin(), s.recall.end());
    real["predicted_recall"].insert(real["predicted_recall"].end(), s.predicted_recall.begin(),
                                    s.predicted_recall.end());
  }
  // Routing depends on positions only: every head's counts are head 0's.
  for (size_t b = 0; b < sizes.size(); ++b) {
    const RoutingSummary& s = r.at(0, 0, b);
    integer["routed_queries"].push_back(s.routed);
    integer["current_block_queries"].push_back(s.in_current_block);
    real["mean_noise_blocks"].push_back(s.mean_noise_blocks);
  }
  for (const SnrQuery& q : r.queries) {
    integer["query_sample"].push_back(q.sample);
    integer["query_position"].push_back(q.position);
    integer["query_relevant"].push_back(q.relevant.front());
  }
  integer["query_rank"] = r.ranks;
  real["query_delta_mu"] = r.query_delta_mu;

  AnalysisWriter out = AnalysisWriter::begin(target, kSparsitySnrAnalysis);
  out.write_scale(kDimBlockSize, sizes);
  out.write_scale(kDimTopK, topk);
  for (const SnrDataset& d : kSnrDatasets) {
    const std::vector<std::string> dims = dimensions_of(d);
    std::vector<int64_t> shape;
    for (const std::string& dim : dims) shape.push_back(shape_of.at(dim).front());
    if (d.integer) {
      out.write_i64(d.name, shape, integer.at(d.name), dims);
    } else {
      out.write_f64(d.name, shape, real.at(d.name), dims);
    }
  }
  out.set_attribute("", "task", source.task);
  out.set_attribute("", kAttrDataset, source.dataset);
  out.set_attribute("", "samples", source.samples);
  out.set_attribute("", "length", source.length);
  out.set_attribute("", "seed", static_cast<int64_t>(source.seed));
  out.set_attribute("", "sample_seeds", "seed + i for sample i; niah depth (i + 0.5) / samples");
  out.set_attribute("", "device", source.device);
  out.set_attribute("", "dtype", source.dtype);
  out.set_attribute("", kAttrKeyConv, r.options.key_conv);
  out.set_attribute("", kAttrAttentionScale, source.attention_scale);
  out.set_attribute("", kAttrSnrTheoryFormula,
                    "delta_mu / (sigma * sqrt(2 * block_size)); scores are the scaled q.k the "
                    "softmax sees (docs/SNR.md)");
  out.set_attribute("", kAttrSnrMeasuredFormula,
                    "delta_mu_eff / (sqrt(2) * sigma_block); predicted_error = Phi(-snr_measured)");
  out.set_attribute("", kAttrCurrentBlockRule,
                    "blocks [0,B), [B,2B), ...; the query's own block (position / B) is always "
                    "attended, so it is not routed and not ranked");
  out.set_attribute("", kAttrRelevantBlockRule,
                    "blocks holding a relevant key (with key_conv W, one of keys r..r+W-1); the "
                    "best-scoring of them is the relevant block, the others are not ranked");
  out.set_attribute(
      "", kAttrQueryRule,
      "niah: the position before each answer token, relevant key the needle value "
      "token it copies; induction: likewise, the token's first copy; ioi: the "
      "position before the answer, the IO name; dataset: the file's queries and relevant keys");
  out.commit();
}

}  // namespace headscope
