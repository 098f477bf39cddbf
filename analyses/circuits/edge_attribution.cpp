#include "analyses/circuits/edge_attribution.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include <torch/torch.h>

#include "analyses/circuits/edge_intervention.h"
#include "analyses/circuits/patching_runs.h"
#include "core/base/error.h"
#include "core/base/progress_bar.h"
#include "core/model/memory_estimate.h"
#include "dist/byte_codec.h"

namespace headscope {
namespace {

// Rows per pass when not given: within this share of the free memory.
constexpr double kMemoryShare = 0.25;
constexpr int64_t kMaxAutoBatch = 256;

int64_t auto_batch(const HookedModel& model, const EapGraph& graph, int64_t length) {
  const Transformer& t = model.model();
  const double per_row =
      eap_row_bytes(graph, t.config(), length, static_cast<int64_t>(torch::elementSize(t.dtype())));
  const double rows = kMemoryShare * available_memory_bytes(t.device()) / per_row;
  return std::clamp<int64_t>(static_cast<int64_t>(std::min(rows, 1e9)), 1, kMaxAutoBatch);
}

// Batches of pairs of one length, `batch` rows at most.
std::vector<std::vector<int64_t>> batches(const HookedModel& model, const EapGraph& graph,
                                          const std::vector<PatchingPair>& pairs, int64_t batch,
                                          int64_t* used) {
  std::vector<std::vector<int64_t>> out;
  const Transformer& t = model.model();
  for (const LengthGroup& group : group_by_length(pairs)) {
    const int64_t rows = batch > 0 ? batch : auto_batch(model, graph, group.length);
    // Refused before any compute, with the estimate, rather than ended by the allocator.
    const int64_t used_rows = std::min<int64_t>(rows, static_cast<int64_t>(group.pairs.size()));
    check_memory_fits(static_cast<double>(used_rows) *
                          eap_row_bytes(graph, t.config(), group.length,
                                        static_cast<int64_t>(torch::elementSize(t.dtype()))),
                      t.device(),
                      "eap: the sender outputs of " + std::to_string(used_rows) + " pair(s) of " +
                          std::to_string(group.length) + " tokens (8 x tokens x " +
                          std::to_string(graph.senders()) + " senders x d_model " +
                          std::to_string(t.config().d_model) + ")",
                      "use --batch 1, shorter prompts or --dtype bf16");
    *used = std::max(*used, std::min<int64_t>(rows, static_cast<int64_t>(group.pairs.size())));
    for (size_t first = 0; first < group.pairs.size(); first += static_cast<size_t>(rows)) {
      const size_t last = std::min(group.pairs.size(), first + static_cast<size_t>(rows));
      out.emplace_back(group.pairs.begin() + static_cast<std::ptrdiff_t>(first),
                       group.pairs.begin() + static_cast<std::ptrdiff_t>(last));
    }
  }
  return out;
}

// Scores one batch of pairs: the scored position's logits and the metric of each row.
class BatchScorer {
 public:
  BatchScorer(const std::vector<PatchingPair>& pairs, const std::vector<int64_t>& rows,
              PatchingMetric metric, torch::Device device)
      : metric_(metric), positions_(LogitPositions::kLast) {
    std::vector<int64_t> answers, distractors;
    for (const int64_t r : rows) {
      const PatchingPair& p = pairs[static_cast<size_t>(r)];
      answers.push_back(p.answer);
      distractors.push_back(std::max(p.distractor, 0));
      at_.push_back(p.position);
      if (p.position != static_cast<int64_t>(p.clean.size()) - 1) positions_ = LogitPositions::kAll;
    }
    answers_ = index_tensor(answers, device);
    distractors_ = index_tensor(distractors, device);
  }

  LogitPositions positions() const { return positions_; }

  // [R] float64, differentiable.
  torch::Tensor metric(const torch::Tensor& logits) const {
    torch::Tensor scored;
    if (logits.size(1) == 1) {
      scored = logits.select(1, 0);
    } else {
      const torch::Tensor index = index_tensor(at_, logits.device()).view({-1, 1, 1});
      scored = logits.gather(1, index.expand({-1, 1, logits.size(2)})).squeeze(1);
    }
    if (metric_ == PatchingMetric::kKl && !clean_logprobs_.defined()) {
      clean_logprobs_ = torch::log_softmax(scored.detach().to(torch::kFloat64), 1);
    }
    return patching_metric(metric_, scored, answers_, distractors_, clean_logprobs_);
  }

 private:
  PatchingMetric metric_;
  LogitPositions positions_;
  std::vector<int64_t> at_;
  torch::Tensor answers_, distractors_;
  // kl compares every run with the clean one: the first run scored is the clean run.
  mutable torch::Tensor clean_logprobs_;
};

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

void check_inputs(const EapGraph& graph, const std::vector<PatchingPair>& pairs,
                  const EapOptions& o) {
  if (pairs.empty()) throw InvalidInput("eap: no pairs to score");
  if (o.metric == PatchingMetric::kLogitDiff) {
    if (const PatchingPair* p = pair_without_distractor(pairs)) {
      throw InvalidInput("--metric logit-diff: " + p->source +
                         " has no distractor to compare the answer with; give one, or use "
                         "--metric prob|logprob|kl");
    }
  }
  if (o.steps < 1)
    throw InvalidInput("--steps: expected at least 1, got " + std::to_string(o.steps));
  if (o.top_n < 1 || o.top_n > graph.edge_count()) {
    throw InvalidInput("--top-n: expected 1 to the graph's " + std::to_string(graph.edge_count()) +
                       " edges, got " + std::to_string(o.top_n));
  }
  if (o.method == EapMethod::kEap && o.metric == PatchingMetric::kKl) {
    throw InvalidInput(
        "--method eap --metric kl: -KL(clean || run) is largest at the clean run, where EAP takes "
        "its gradient, so every score would be 0; use --method eap-ig or another --metric");
  }
}

// (1 − keep) over the [U, R] grid of the graph: 0 for the top n edges of `ranking`.
torch::Tensor removed_edges(const EapGraph& graph, const std::vector<int64_t>& ranking, int64_t n,
                            torch::ScalarType dtype, torch::Device device) {
  auto removed = torch::zeros({graph.senders(), graph.receivers()}, torch::kFloat64);
  auto acc = removed.accessor<double, 2>();
  for (const EapEdge& e : graph.edges()) acc[e.sender][e.receiver] = 1.0;
  for (int64_t i = 0; i < n; ++i) {
    const EapEdge& e = graph.edges()[static_cast<size_t>(ranking[static_cast<size_t>(i)])];
    acc[e.sender][e.receiver] = 0.0;
  }
  return removed.to(device, dtype);
}

// The batches every process of a split runs: the first process's (the sizes read free memory,
// which differs between processes).
std::vector<std::vector<int64_t>> agreed_batches(const WorkSplit& split,
                                                 std::vector<std::vector<int64_t>> groups,
                                                 int64_t* used) {
  if (!split.active()) return groups;
  ByteWriter mine;
  mine.put(*used);
  mine.put<uint64_t>(groups.size());
  for (const auto& rows : groups) mine.put_vector(rows);
  const std::vector<std::string> all = split.all_gather(mine.bytes());
  ByteReader first(all.at(0), "eap batches of rank 0");
  *used = first.get<int64_t>();
  groups.assign(first.get<uint64_t>(), {});
  for (auto& rows : groups) rows = first.get_vector<int64_t>();
  return groups;
}

// Whether this process runs each batch: all of them, or a split's share (cost: rows x length).
std::vector<uint8_t> batches_run(const WorkSplit& split,
                                 const std::vector<std::vector<int64_t>>& groups,
                                 const std::vector<PatchingPair>& pairs) {
  std::vector<double> costs;
  for (const auto& rows : groups) {
    costs.push_back(
        static_cast<double>(rows.size() * pairs[static_cast<size_t>(rows.front())].clean.size()));
  }
  return split.runs(costs);
}

// The faithfulness of the top n edges of `ranking` for each n in `edge_counts`, over `groups`.
std::vector<FaithfulnessPoint> faithfulness_over(
    HookedModel& model, const EapGraph& graph, const std::vector<PatchingPair>& pairs,
    const std::vector<int64_t>& ranking, const std::vector<int64_t>& edge_counts,
    const EapOptions& o, double clean_mean, double corrupted_mean,
    const std::vector<std::vector<int64_t>>& groups, const WorkSplit& split) {
  torch::NoGradGuard no_grad;
  const Transformer& t = model.model();
  std::vector<torch::Tensor> removed;
  for (const int64_t n : edge_counts)
    removed.push_back(removed_edges(graph, ranking, n, t.dtype(), t.device()));

  // Mean ablation replaces a sender by its mean output over every clean prompt and position.
  torch::Tensor fixed;
  if (o.ablation == EapAblation::kZero) {
    fixed = torch::zeros({graph.senders(), t.config().d_model},
                         torch::TensorOptions(t.dtype()).device(t.device()));
  } else if (o.ablation == EapAblation::kMean) {
    torch::Tensor sum;
    int64_t count = 0;
    for (const auto& rows : groups) {
      EdgePassRecord record;
      EdgePass pass;
      pass.record_senders = true;
      run_edge_pass(model, graph, stack_tokens(pairs, rows, true), pass, &record,
                    LogitPositions::kNone);
      const torch::Tensor s = record.senders.to(torch::kFloat64).sum(std::vector<int64_t>{0, 1});
      sum = sum.defined() ? sum + s : s;
      count += record.senders.size(0) * record.senders.size(1);
    }
    fixed = (sum / static_cast<double>(count)).to(t.dtype());
  }

  // Each batch's sum of the metric per edge count, added in batch order.
  const std::vector<uint8_t> run = batches_run(split, groups, pairs);
  std::map<int64_t, std::string> batch_totals;
  ProgressBar bar(std::string("faithfulness"), std::count(run.begin(), run.end(), uint8_t{1}),
                  o.quiet);
  for (size_t b = 0; b < groups.size(); ++b) {
    if (run[b] == 0) continue;
    const std::vector<int64_t>& rows = groups[b];
    std::vector<double> sums;
    BatchScorer scorer(pairs, rows, o.metric, t.device());
    const torch::Tensor clean = stack_tokens(pairs, rows, true);
    EdgePass pass;
    if (o.ablation == EapAblation::kPatch) {
      EdgePassRecord record;
      EdgePass corrupt;
      corrupt.record_senders = true;
      run_edge_pass(model, graph, stack_tokens(pairs, rows, false), corrupt, &record,
                    LogitPositions::kNone);
      pass.replacement = record.senders;
    } else {
      pass.replacement = fixed;
    }
    // kl compares every run with the clean one, which the scorer sees first.
    if (o.metric == PatchingMetric::kKl)
      scorer.metric(model.forward(clean, nullptr, scorer.positions()));
    for (size_t i = 0; i < edge_counts.size(); ++i) {
      pass.removed = removed[i];
      const auto m = to_vector(
          scorer.metric(run_edge_pass(model, graph, clean, pass, nullptr, scorer.positions())));
      sums.push_back(std::accumulate(m.begin(), m.end(), 0.0));
    }
    ByteWriter item;
    item.put_vector(sums);
    batch_totals[static_cast<int64_t>(b)] = item.bytes();
    bar.advance();
  }
  std::vector<double> totals(edge_counts.size(), 0.0);
  const std::vector<std::string> items =
      exchange_items(split, batch_totals, static_cast<int64_t>(groups.size()), "faithfulness sums");
  for (size_t b = 0; b < items.size(); ++b) {
    ByteReader in(items[b], "faithfulness sums of batch " + std::to_string(b));
    const auto sums = in.get_vector<double>();
    HS_ASSERT(sums.size() == totals.size());
    for (size_t i = 0; i < totals.size(); ++i) totals[i] += sums[i];
  }
  std::vector<FaithfulnessPoint> curve;
  for (size_t i = 0; i < edge_counts.size(); ++i) {
    const double m = totals[i] / static_cast<double>(pairs.size());
    curve.push_back({edge_counts[i], m, normalised_score(m, clean_mean, corrupted_mean)});
  }
  return curve;
}

}  // namespace

const char* eap_method_name(EapMethod method) {
  return method == EapMethod::kEap ? "eap" : "eap-ig";
}

const char* eap_ablation_name(EapAblation ablation) {
  switch (ablation) {
    case EapAblation::kPatch:
      return "patch";
    case EapAblation::kMean:
      return "mean";
    case EapAblation::kZero:
      return "zero";
  }
  HS_ASSERT(false && "unhandled ablation");
}

std::vector<int64_t> faithfulness_sweep(int64_t edges, int64_t top_n) {
  std::vector<int64_t> counts = {0, top_n, edges};
  for (int64_t decade = 1; decade < edges; decade *= 10) {
    for (const int64_t m : {1, 2, 5}) {
      if (decade * m < edges) counts.push_back(decade * m);
    }
  }
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  return counts;
}

std::vector<FaithfulnessPoint> faithfulness_curve(HookedModel& model, const EapGraph& graph,
                                                  const std::vector<PatchingPair>& pairs,
                                                  const std::vector<int64_t>& ranking,
                                                  const std::vector<int64_t>& edge_counts,
                                                  const EapOptions& o, double clean_mean,
                                                  double corrupted_mean) {
  int64_t used = 0;
  return faithfulness_over(model, graph, pairs, ranking, edge_counts, o, clean_mean, corrupted_mean,
                           batches(model, graph, pairs, o.batch_size, &used), WorkSplit{});
}

EapResult edge_attribution(HookedModel& model, const EapGraph& graph,
                           const std::vector<PatchingPair>& pairs, const EapOptions& o) {
  return edge_attribution(model, graph, pairs, o, WorkSplit{});
}

EapResult edge_attribution(HookedModel& model, const EapGraph& graph,
                           const std::vector<PatchingPair>& pairs, const EapOptions& o,
                           const WorkSplit& split) {
  check_inputs(graph, pairs, o);
  const auto start = std::chrono::steady_clock::now();
  const Transformer& t = model.model();
  EapResult result;
  const auto groups = agreed_batches(
      split, batches(model, graph, pairs, o.batch_size, &result.batch_size), &result.batch_size);
  const int64_t steps = o.method == EapMethod::kEap ? 1 : o.steps;
  result.clean_metric.assign(pairs.size(), 0.0);
  result.corrupted_metric.assign(pairs.size(), 0.0);

  // Per batch run here: its [U, R] scores summed over the steps, and the clean and corrupted
  // metrics of its rows; added over the batches in batch order.
  const std::vector<uint8_t> run = batches_run(split, groups, pairs);
  std::map<int64_t, std::string> per_batch;
  ProgressBar bar(std::string(eap_method_name(o.method)) + " scores",
                  std::count(run.begin(), run.end(), uint8_t{1}) * steps, o.quiet);
  for (size_t b = 0; b < groups.size(); ++b) {
    if (run[b] == 0) continue;
    const std::vector<int64_t>& rows = groups[b];
    auto scores = torch::zeros({graph.senders(), graph.receivers()}, torch::kFloat64);
    BatchScorer scorer(pairs, rows, o.metric, t.device());
    const torch::Tensor clean = stack_tokens(pairs, rows, true);
    EdgePassRecord clean_run, corrupt_run;
    ByteWriter metrics;
    {
      torch::NoGradGuard no_grad;
      EdgePass record;
      record.record_senders = true;
      const auto clean_m = to_vector(scorer.metric(
          run_edge_pass(model, graph, clean, record, &clean_run, scorer.positions())));
      const auto corrupt_m =
          to_vector(scorer.metric(run_edge_pass(model, graph, stack_tokens(pairs, rows, false),
                                                record, &corrupt_run, scorer.positions())));
      metrics.put_vector(clean_m);
      metrics.put_vector(corrupt_m);
    }
    const torch::Tensor difference = corrupt_run.senders - clean_run.senders;  // [B, T, U, d]
    const torch::Tensor clean_input = clean_run.senders.select(2, EapGraph::kInput);
    const torch::Tensor corrupt_input = corrupt_run.senders.select(2, EapGraph::kInput);
    for (int64_t k = 0; k < steps; ++k) {
      EdgePass pass;
      pass.track_gradients = true;
      if (o.method == EapMethod::kEapIg) {
        const double alpha = (static_cast<double>(k) + 0.5) / static_cast<double>(steps);
        pass.input = corrupt_input + alpha * (clean_input - corrupt_input);
      }
      EdgePassRecord record;
      const torch::Tensor m =
          scorer.metric(run_edge_pass(model, graph, clean, pass, &record, scorer.positions()));
      // allow_unused: a receiver the scored positions never read has no gradient (zero).
      const auto grads =
          torch::autograd::grad({m.sum()}, record.receiver_inputs, {}, false, false, true);
      for (size_t g = 0; g < grads.size(); ++g) {
        if (!grads[g].defined()) continue;
        const int64_t senders = record.group_senders[g];
        const int64_t first = record.group_first_receiver[g];
        const torch::Tensor part =
            torch::einsum("btud,btrd->ur", {difference.narrow(2, 0, senders), grads[g]});
        scores.narrow(0, 0, senders).narrow(1, first, grads[g].size(2)) +=
            part.to(torch::kCPU, torch::kFloat64) / static_cast<double>(steps);
      }
      bar.advance();
    }
    metrics.put_tensor(scores);
    per_batch[static_cast<int64_t>(b)] = metrics.bytes();
  }
  const std::vector<std::string> items =
      exchange_items(split, per_batch, static_cast<int64_t>(groups.size()), "eap scores");
  auto scores = torch::zeros({graph.senders(), graph.receivers()}, torch::kFloat64);
  for (size_t b = 0; b < groups.size(); ++b) {
    ByteReader in(items[b], "eap scores of batch " + std::to_string(b));
    const auto clean_m = in.get_vector<double>();
    const auto corrupt_m = in.get_vector<double>();
    scores += in.get_tensor();
    HS_ASSERT(clean_m.size() == groups[b].size() && corrupt_m.size() == groups[b].size());
    for (size_t i = 0; i < groups[b].size(); ++i) {
      result.clean_metric[static_cast<size_t>(groups[b][i])] = clean_m[i];
      result.corrupted_metric[static_cast<size_t>(groups[b][i])] = corrupt_m[i];
    }
  }
  // Two unpatched runs per batch, then a forward and a backward pass per step.
  result.forward_passes = static_cast<int64_t>(groups.size()) * (2 + steps);
  result.backward_passes = static_cast<int64_t>(groups.size()) * steps;
  scores /= static_cast<double>(pairs.size());
  result.clean_mean = mean_of(result.clean_metric);
  result.corrupted_mean = mean_of(result.corrupted_metric);
  if (result.clean_mean == result.corrupted_mean) {
    throw InvalidInput("eap: the clean and corrupted runs have the same mean " +
                       std::string(patching_metric_name(o.metric)) + " (" +
                       std::to_string(result.clean_mean) + "): nothing to normalise by");
  }
  const auto acc = scores.accessor<double, 2>();
  for (const EapEdge& e : graph.edges()) result.scores.push_back(acc[e.sender][e.receiver]);
  result.ranking.resize(result.scores.size());
  std::iota(result.ranking.begin(), result.ranking.end(), int64_t{0});
  std::stable_sort(result.ranking.begin(), result.ranking.end(), [&](int64_t a, int64_t b) {
    return std::abs(result.scores[static_cast<size_t>(a)]) >
           std::abs(result.scores[static_cast<size_t>(b)]);
  });

  if (o.faithfulness) {
    const std::vector<int64_t> counts = faithfulness_sweep(graph.edge_count(), o.top_n);
    result.curve = faithfulness_over(model, graph, pairs, result.ranking, counts, o,
                                     result.clean_mean, result.corrupted_mean, groups, split);
    const auto faithfulness_passes = static_cast<int64_t>(counts.size()) +
                                     (o.metric == PatchingMetric::kKl ? 1 : 0) +
                                     (o.ablation == EapAblation::kPatch ? 1 : 0);
    result.forward_passes +=
        static_cast<int64_t>(groups.size()) * faithfulness_passes +
        (o.ablation == EapAblation::kMean ? static_cast<int64_t>(groups.size()) : 0);
    for (size_t i = 1; i < result.curve.size(); ++i) {
      const double width = static_cast<double>(result.curve[i].edges - result.curve[i - 1].edges) /
                           static_cast<double>(graph.edge_count());
      result.area +=
          0.5 * width * (result.curve[i].faithfulness + result.curve[i - 1].faithfulness);
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

double eap_row_bytes(const EapGraph& graph, const ModelConfig& config, int64_t tokens,
                     int64_t element_size) {
  return 8.0 * static_cast<double>(tokens) * static_cast<double>(graph.senders()) *
         static_cast<double>(config.d_model) * static_cast<double>(element_size);
}

std::vector<double> head_scores(const EapGraph& graph, const EapResult& result) {
  std::vector<double> out(static_cast<size_t>(graph.layers() * graph.heads()), 0.0);
  const double gap = result.clean_mean - result.corrupted_mean;
  for (size_t e = 0; e < graph.edges().size(); ++e) {
    const auto [layer, head] = graph.sender_head(graph.edges()[e].sender);
    if (head >= 0) out[static_cast<size_t>(layer * graph.heads() + head)] -= result.scores[e] / gap;
  }
  return out;
}

std::vector<uint8_t> heads_of_top_edges(const EapGraph& graph, const EapResult& result,
                                        int64_t top_n) {
  std::vector<uint8_t> selected(static_cast<size_t>(graph.layers() * graph.heads()), 0);
  const auto mark = [&](int64_t layer, int64_t head) {
    if (head >= 0) selected[static_cast<size_t>(layer * graph.heads() + head)] = 1;
  };
  for (int64_t i = 0; i < top_n; ++i) {
    const EapEdge& e = graph.edges()[static_cast<size_t>(result.ranking[static_cast<size_t>(i)])];
    const auto [layer, head] = graph.sender_head(e.sender);
    mark(layer, head);
    for (const auto& [l, h] : graph.receiver_heads(e.receiver)) mark(l, h);
  }
  return selected;
}

}  // namespace headscope
