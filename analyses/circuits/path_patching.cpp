#include "analyses/circuits/path_patching.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <torch/torch.h>

#include "analyses/circuits/patching_runs.h"
#include "core/base/error.h"
#include "core/base/not_a_number.h"
#include "core/base/progress_bar.h"
#include "core/model/memory_estimate.h"
#include "dist/byte_codec.h"

namespace headscope {

const char* sender_positions_name(SenderPositions v) {
  switch (v) {
    case SenderPositions::kAll:
      return "all";
    case SenderPositions::kFinal:
      return "final";
  }
  HS_ASSERT(false && "unhandled sender positions");
}

namespace {

HookKind input_kind(ReceiverInput input) {
  switch (input) {
    case ReceiverInput::kQ:
      return HookKind::kQ;
    case ReceiverInput::kK:
      return HookKind::kK;
    case ReceiverInput::kV:
      return HookKind::kV;
  }
  HS_ASSERT(false && "unhandled receiver input");
}

// A non-negative decimal integer, the whole of `text`.
bool parse_index(const std::string& text, int64_t& value) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  value = std::stoll(text);
  return true;
}

std::string trimmed(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// The tensor a receiver input lives in: its hook point and the slice of its head axis
// (key/value heads for k and v).
struct ReceiverSlot {
  HookPoint point;
  int64_t head = 0;
};

ReceiverSlot receiver_slot(const ModelConfig& config, const HeadReceiver& r) {
  const int64_t group = config.n_heads / config.n_kv_heads;
  const bool kv = r.input != ReceiverInput::kQ;
  return {HookPoint{r.at.layer, input_kind(r.input)}, kv ? r.at.head / group : r.at.head};
}

// The clean and corrupted runs of every pair, with every layer's hook_z cached, shared by the
// path-patching runs of one set of pairs (the stages and edges of --iterative).
class PathPatcher {
 public:
  // Under a split, every process runs the unpatched runs of every pair and its share of each
  // run()'s batches, at the first process's batch size; run() returns the whole result on each.
  PathPatcher(HookedModel& model, const std::vector<PatchingPair>& pairs,
              const PathPatchingOptions& options, const WorkSplit& split);

  PathPatchingResult run(const PathReceivers& receivers, const std::vector<HeadIndex>& senders);
  int64_t forward_passes() const { return passes_; }

 private:
  // One batch: rows (sender, pair) of one length group; returns m(pass 2) of each row.
  std::vector<double> run_batch(size_t group, const std::vector<int64_t>& member_of_row,
                                const std::vector<int64_t>& pair_of_row,
                                const std::vector<HeadIndex>& sender_of_row,
                                const PathReceivers& receivers);

  HookedModel& model_;
  const std::vector<PatchingPair>& pairs_;
  PathPatchingOptions options_;
  const WorkSplit& split_;
  const ModelConfig& config_;
  torch::Device device_;
  std::vector<LengthGroup> groups_;
  PatchingScorer scorer_;
  std::vector<torch::Tensor> clean_tokens_;  // [group]: [members, T]
  std::vector<std::vector<torch::Tensor>> clean_z_,
      corrupt_z_;  // [group][layer]: [members, T, H, D]
  std::vector<double> clean_metric_, corrupted_metric_;
  double clean_mean_ = 0.0, corrupted_mean_ = 0.0;
  int64_t batch_ = 0;
  int64_t passes_ = 0;
};

PathPatcher::PathPatcher(HookedModel& model, const std::vector<PatchingPair>& pairs,
                         const PathPatchingOptions& options, const WorkSplit& split)
    : model_(model),
      pairs_(pairs),
      options_(options),
      split_(split),
      config_(model.model().config()),
      device_(model.model().device()),
      groups_(group_by_length(pairs)),
      scorer_(pairs, options.metric, model.model().device()) {
  const Transformer& net = model.model();
  const auto n = static_cast<int64_t>(pairs.size());
  int64_t longest = 0, tokens = 0;
  for (const PatchingPair& p : pairs) {
    longest = std::max<int64_t>(longest, p.clean.size());
    tokens += static_cast<int64_t>(p.clean.size());
  }
  // Memory: hook_z of both runs of every pair stays cached; a row of a batch holds one forward
  // pass, its frozen z of every layer, and the receivers' recorded q, k, v of at most every layer.
  const auto element = static_cast<double>(torch::elementSize(net.dtype()));
  const double z_per_token =
      static_cast<double>(config_.n_layers * config_.n_heads * config_.d_head) * element;
  const double cache_bytes = 2.0 * static_cast<double>(tokens) * z_per_token;
  check_memory_fits(
      cache_bytes, device_,
      "the cached hook_z of the clean and corrupted runs of " + std::to_string(n) + " pairs",
      "use fewer pairs");
  ForwardShape one;
  one.tokens = longest;
  one.logit_positions = longest;
  const double per_row = forward_bytes(config_, one, static_cast<int64_t>(element)) +
                         static_cast<double>(longest) * 4.0 * z_per_token;
  batch_ = patching_batch_size(net, options.batch_size, cache_bytes, per_row, longest,
                               n * config_.n_layers * config_.n_heads);
  if (split_.active()) {
    // The first process's: the estimate reads free memory, which differs between processes.
    ByteWriter mine;
    mine.put(batch_);
    const std::vector<std::string> all = split_.all_gather(mine.bytes());
    ByteReader first(all.at(0), "path-patching batch size of rank 0");
    batch_ = first.get<int64_t>();
  }

  std::vector<std::string> filters;
  for (int64_t l = 0; l < config_.n_layers; ++l)
    filters.push_back(net.hook_names().name({l, HookKind::kZ}));
  clean_metric_.assign(static_cast<size_t>(n), 0.0);
  corrupted_metric_.assign(static_cast<size_t>(n), 0.0);
  for (const LengthGroup& group : groups_) {
    const std::vector<int64_t>& members = group.pairs;
    std::vector<std::vector<torch::Tensor>> clean_chunks(static_cast<size_t>(config_.n_layers));
    std::vector<std::vector<torch::Tensor>> corrupt_chunks(static_cast<size_t>(config_.n_layers));
    for (size_t begin = 0; begin < members.size(); begin += static_cast<size_t>(batch_)) {
      const std::vector<int64_t> rows(
          members.begin() + static_cast<std::ptrdiff_t>(begin),
          members.begin() + static_cast<std::ptrdiff_t>(
                                std::min(members.size(), begin + static_cast<size_t>(batch_))));
      const LogitPositions at = scorer_.positions(rows);
      ActivationCache clean, corrupt;
      const torch::Tensor clean_logits = scorer_.scored_logits(
          model_.run_with_cache(stack_tokens(pairs, rows, true), filters, clean, false, at), rows);
      const torch::Tensor corrupt_logits = scorer_.scored_logits(
          model_.run_with_cache(stack_tokens(pairs, rows, false), filters, corrupt, false, at),
          rows);
      passes_ += 2;
      for (int64_t l = 0; l < config_.n_layers; ++l) {
        clean_chunks[static_cast<size_t>(l)].push_back(clean.at(filters[static_cast<size_t>(l)]));
        corrupt_chunks[static_cast<size_t>(l)].push_back(
            corrupt.at(filters[static_cast<size_t>(l)]));
      }
      scorer_.set_clean(clean_logits, rows);
      const std::vector<double> c = scorer_.metric(clean_logits, rows);
      const std::vector<double> k = scorer_.metric(corrupt_logits, rows);
      for (size_t i = 0; i < rows.size(); ++i) {
        clean_metric_[static_cast<size_t>(rows[i])] = c[i];
        corrupted_metric_[static_cast<size_t>(rows[i])] = k[i];
      }
    }
    clean_z_.emplace_back();
    corrupt_z_.emplace_back();
    for (int64_t l = 0; l < config_.n_layers; ++l) {
      clean_z_.back().push_back(torch::cat(clean_chunks[static_cast<size_t>(l)], 0));
      corrupt_z_.back().push_back(torch::cat(corrupt_chunks[static_cast<size_t>(l)], 0));
    }
    clean_tokens_.push_back(stack_tokens(pairs, members, true));
  }
  clean_mean_ = mean_of(clean_metric_);
  corrupted_mean_ = mean_of(corrupted_metric_);
  if (!(std::abs(clean_mean_ - corrupted_mean_) > 0.0)) {
    throw InvalidInput("the clean and corrupted runs score the same mean " +
                       std::string(patching_metric_name(options.metric)) + " (" +
                       std::to_string(clean_mean_) +
                       "), so the normalised score is undefined; the corruption changes nothing "
                       "this metric sees");
  }
}

std::vector<double> PathPatcher::run_batch(size_t g, const std::vector<int64_t>& member_of_row,
                                           const std::vector<int64_t>& pair_of_row,
                                           const std::vector<HeadIndex>& sender_of_row,
                                           const PathReceivers& receivers) {
  const auto rows = static_cast<int64_t>(member_of_row.size());
  const torch::Tensor members = index_tensor(member_of_row, device_);
  const torch::Tensor tokens = clean_tokens_[g].index_select(0, torch::tensor(member_of_row));
  const LogitPositions scored = scorer_.positions(pair_of_row);
  // Layers whose z is frozen: all of them for the logits, else those before the latest receiver
  // (later heads cannot reach any receiver's input).
  int64_t frozen_layers = config_.n_layers;
  std::map<std::pair<int64_t, int>, std::vector<int64_t>> receiver_heads;  // (layer, kind) -> heads
  if (!receivers.logits) {
    frozen_layers = 0;
    for (const HeadReceiver& r : receivers.heads) {
      const ReceiverSlot slot = receiver_slot(config_, r);
      receiver_heads[{slot.point.layer, static_cast<int>(slot.point.kind)}].push_back(slot.head);
      frozen_layers = std::max(frozen_layers, r.at.layer);
    }
  }

  // Pass 1: the clean prompt, every head's z frozen to the clean run's, the sender's to the
  // corrupted run's (at every position, or at the scored one); the receivers' q/k/v recorded.
  std::map<std::pair<int64_t, int>, torch::Tensor> recorded;
  torch::Tensor logits;
  const bool final_only = options_.sender_positions == SenderPositions::kFinal;
  {
    ScopedHooks hooks(model_);
    for (int64_t l = 0; l < frozen_layers; ++l) {
      torch::Tensor frozen = clean_z_[g][static_cast<size_t>(l)].index_select(0, members);
      auto mask =
          torch::zeros({rows, final_only ? tokens.size(1) : 1, config_.n_heads, 1}, torch::kBool);
      auto rows_mask = mask.accessor<bool, 4>();
      bool any = false;
      for (int64_t r = 0; r < rows; ++r) {
        const HeadIndex& s = sender_of_row[static_cast<size_t>(r)];
        if (s.layer == l) {
          const int64_t at =
              final_only ? pairs_[static_cast<size_t>(pair_of_row[static_cast<size_t>(r)])].position
                         : 0;
          rows_mask[r][at][s.head][0] = true;
          any = true;
        }
      }
      if (any) {
        frozen =
            torch::where(mask.to(device_),
                         corrupt_z_[g][static_cast<size_t>(l)].index_select(0, members), frozen);
      }
      hooks.add(HookPoint{l, HookKind::kZ},
                [frozen](const torch::Tensor& value, const HookContext&) {
                  return std::optional<torch::Tensor>(frozen.to(value.scalar_type()));
                });
    }
    for (const auto& entry : receiver_heads) {
      const auto key = entry.first;
      hooks.add(HookPoint{key.first, static_cast<HookKind>(key.second)},
                [&recorded, key](const torch::Tensor& value, const HookContext&) {
                  recorded[key] = value;
                  return std::optional<torch::Tensor>();
                });
    }
    logits = model_.forward(tokens, nullptr, receivers.logits ? scored : LogitPositions::kNone);
  }
  if (!receivers.logits) {
    // Pass 2: the clean prompt with only the receivers' inputs taken from pass 1.
    ScopedHooks hooks(model_);
    for (const auto& [key, heads] : receiver_heads) {
      const torch::Tensor& source = recorded.at(key);
      auto mask = torch::zeros({1, 1, source.size(2), 1}, torch::kBool);
      auto heads_mask = mask.accessor<bool, 4>();
      for (const int64_t h : heads) heads_mask[0][0][h][0] = true;
      hooks.add(HookPoint{key.first, static_cast<HookKind>(key.second)},
                [source, mask = mask.to(device_)](const torch::Tensor& value, const HookContext&) {
                  return std::optional<torch::Tensor>(
                      torch::where(mask, source.to(value.scalar_type()), value));
                });
    }
    logits = model_.forward(tokens, nullptr, scored);
  }
  return scorer_.metric(scorer_.scored_logits(logits, pair_of_row), pair_of_row);
}

PathPatchingResult PathPatcher::run(const PathReceivers& receivers,
                                    const std::vector<HeadIndex>& senders) {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  const int64_t passes_before = passes_;
  const int64_t heads = config_.n_layers * config_.n_heads;
  const auto n = static_cast<int64_t>(pairs_.size());
  const auto n_senders = static_cast<int64_t>(senders.size());
  HS_ASSERT(n_senders > 0);
  PathPatchingResult result;
  result.n_layers = config_.n_layers;
  result.n_heads = config_.n_heads;
  result.senders = senders;
  result.clean_metric = clean_metric_;
  result.corrupted_metric = corrupted_metric_;
  result.clean_mean = clean_mean_;
  result.corrupted_mean = corrupted_mean_;
  result.batch_size = std::min(batch_, n * n_senders);
  result.per_sample.assign(static_cast<size_t>(n * heads), kNaN);
  result.scores.assign(static_cast<size_t>(heads), kNaN);

  // Rows are (sender, pair) in sender-major order, as activation patching's sweep.
  const SweepBatches batches = sweep_batches(groups_, n_senders, result.batch_size, split_);
  ProgressBar progress("path patching to " + receivers_text(receivers), batches.rows_here(),
                       options_.quiet);
  std::map<int64_t, std::string> mine;  // batch -> its per_sample entries and values
  size_t batch_index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::vector<int64_t>& members = groups_[g].pairs;
    const auto size = static_cast<int64_t>(members.size());
    for (int64_t begin = 0; begin < size * n_senders; begin += result.batch_size) {
      const int64_t end = std::min(size * n_senders, begin + result.batch_size);
      if (batches.here[batch_index++] == 0) continue;
      std::vector<int64_t> member_of_row, pair_of_row;
      std::vector<HeadIndex> sender_of_row;
      for (int64_t r = begin; r < end; ++r) {
        member_of_row.push_back(r % size);
        pair_of_row.push_back(members[static_cast<size_t>(r % size)]);
        sender_of_row.push_back(senders[static_cast<size_t>(r / size)]);
      }
      const std::vector<double> values =
          run_batch(g, member_of_row, pair_of_row, sender_of_row, receivers);
      std::vector<int64_t> entries;
      for (size_t i = 0; i < values.size(); ++i) {
        const HeadIndex& s = sender_of_row[i];
        entries.push_back(pair_of_row[i] * heads + s.layer * config_.n_heads + s.head);
      }
      mine[static_cast<int64_t>(batch_index - 1)] = pack_indexed_values(entries, values);
      progress.advance(end - begin);
    }
  }
  // Every batch's values from the process that ran it (all of them here without a split).
  const std::vector<std::string> items = exchange_items(
      split_, mine, static_cast<int64_t>(batches.costs.size()), "path-patching values");
  unpack_indexed_values(items, "path-patching values", result.per_sample);
  // Pass 1 alone for the logits; pass 1 and pass 2 for head receivers.
  passes_ += static_cast<int64_t>(items.size()) * (receivers.logits ? 1 : 2);
  for (const HeadIndex& s : senders) {
    const int64_t at = s.layer * config_.n_heads + s.head;
    double sum = 0.0;
    for (int64_t p = 0; p < n; ++p) sum += result.per_sample[static_cast<size_t>(p * heads + at)];
    result.scores[static_cast<size_t>(at)] =
        (sum / static_cast<double>(n) - clean_mean_) / (clean_mean_ - corrupted_mean_);
  }
  result.forward_passes = passes_ - passes_before;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// The selected senders of a stage and the |score| they needed.
std::pair<std::vector<HeadIndex>, double> select_senders(const PathPatchingResult& r,
                                                         const PathCircuitOptions& o) {
  const auto key = [&r](const HeadIndex& h) {
    return std::abs(r.scores[static_cast<size_t>(h.layer * r.n_heads + h.head)]);
  };
  std::vector<HeadIndex> selected;
  if (o.top_fraction > 0.0) {
    std::vector<HeadIndex> order = r.senders;
    std::stable_sort(order.begin(), order.end(),
                     [&key](const HeadIndex& a, const HeadIndex& b) { return key(a) > key(b); });
    const auto k = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(o.top_fraction * static_cast<double>(order.size()))));
    const size_t kept = std::min(k, order.size());
    const double cut = key(order[kept - 1]);
    order.resize(kept);
    std::sort(order.begin(), order.end());
    return {order, cut};
  }
  for (const HeadIndex& h : r.senders) {
    if (key(h) >= o.threshold) selected.push_back(h);
  }
  return {selected, o.threshold};
}

}  // namespace

const char* receiver_input_name(ReceiverInput input) {
  switch (input) {
    case ReceiverInput::kQ:
      return "q";
    case ReceiverInput::kK:
      return "k";
    case ReceiverInput::kV:
      return "v";
  }
  HS_ASSERT(false && "unhandled receiver input");
}

std::string head_node_name(const HeadIndex& head) {
  return "a" + std::to_string(head.layer) + ".h" + std::to_string(head.head);
}

std::string receiver_node_name(const HeadReceiver& receiver) {
  return head_node_name(receiver.at) + "<" + receiver_input_name(receiver.input) + ">";
}

std::string receivers_text(const PathReceivers& receivers) {
  if (receivers.logits) return "logits";
  std::string text;
  for (const HeadReceiver& r : receivers.heads)
    text += (text.empty() ? "" : ",") + receiver_node_name(r);
  return text;
}

PathReceivers parse_path_receivers(const std::string& text, const ModelConfig& config,
                                   const std::vector<ReceiverInput>& inputs) {
  HS_ASSERT(!inputs.empty());
  PathReceivers receivers;
  std::set<std::pair<HeadIndex, int>> seen;
  size_t begin = 0;
  while (true) {
    const size_t comma = text.find(',', begin);
    const std::string item = trimmed(text.substr(begin, comma - begin));
    const std::string what = "--receivers: '" + item + "'";
    const size_t colon = item.find(':');
    const std::string node = item.substr(0, colon);
    if (node == "logits") {
      if (colon != std::string::npos) {
        throw InvalidInput(what + ": the logits have no q, k or v input; give logits alone");
      }
      receivers.logits = true;
    } else {
      const size_t dot = node.find('.');
      HeadIndex head;
      if (dot == std::string::npos || !parse_index(node.substr(0, dot), head.layer) ||
          !parse_index(node.substr(dot + 1), head.head)) {
        throw InvalidInput(what + ": expected logits or LAYER.HEAD[:q|k|v] (e.g. 2.5:v)");
      }
      if (head.layer >= config.n_layers) {
        throw InvalidInput(what + ": layer " + std::to_string(head.layer) +
                           " is out of range; the model has layers 0.." +
                           std::to_string(config.n_layers - 1));
      }
      if (head.head >= config.n_heads) {
        throw InvalidInput(what + ": head " + std::to_string(head.head) +
                           " is out of range; the model has heads 0.." +
                           std::to_string(config.n_heads - 1));
      }
      std::vector<ReceiverInput> these = inputs;
      if (colon != std::string::npos) {
        const std::string input = item.substr(colon + 1);
        if (input == "q") {
          these = {ReceiverInput::kQ};
        } else if (input == "k") {
          these = {ReceiverInput::kK};
        } else if (input == "v") {
          these = {ReceiverInput::kV};
        } else {
          throw InvalidInput(what + ": the input after ':' must be q, k or v");
        }
      }
      for (const ReceiverInput input : these) {
        if (!seen.insert({head, static_cast<int>(input)}).second) {
          throw InvalidInput(what + ": " + receiver_node_name({head, input}) + " is given twice");
        }
        receivers.heads.push_back({head, input});
      }
    }
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  if (receivers.logits && (!receivers.heads.empty() || text.find(',') != std::string::npos)) {
    throw InvalidInput("--receivers: '" + text +
                       "': logits cannot be combined with other receivers (patching the final "
                       "residual overrides every other path); give logits alone or heads only");
  }
  return receivers;
}

std::vector<HeadIndex> default_senders(const ModelConfig& config, const PathReceivers& receivers) {
  int64_t layers = config.n_layers;
  if (!receivers.logits) {
    layers = 0;
    for (const HeadReceiver& r : receivers.heads) layers = std::max(layers, r.at.layer);
  }
  std::vector<HeadIndex> senders;
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t h = 0; h < config.n_heads; ++h) senders.push_back({l, h});
  }
  return senders;
}

PathPatchingResult path_patching(HookedModel& model, const std::vector<PatchingPair>& pairs,
                                 const PathReceivers& receivers,
                                 const std::vector<HeadIndex>& senders,
                                 const PathPatchingOptions& options, const WorkSplit& split) {
  const auto start = std::chrono::steady_clock::now();
  HS_ASSERT(receivers.logits != !receivers.heads.empty());
  check_patching_pairs(pairs, options.metric, "path patching");
  const ModelConfig& config = model.model().config();
  const std::vector<HeadIndex> chosen =
      senders.empty() ? default_senders(config, receivers) : senders;
  if (chosen.empty()) {
    throw InvalidInput("--receivers " + receivers_text(receivers) +
                       ": no head precedes the receivers (they are all in layer 0), so there is no "
                       "sender to patch");
  }
  torch::NoGradGuard no_grad;
  PathPatcher patcher(model, pairs, options, split);
  PathPatchingResult result = patcher.run(receivers, chosen);
  result.forward_passes = patcher.forward_passes();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<double> PathCircuit::head_scores() const {
  std::vector<double> best(static_cast<size_t>(n_layers * n_heads), kNaN);
  for (const PathStage& stage : stages) {
    for (size_t i = 0; i < best.size(); ++i) {
      const double score = stage.result.scores[i];
      if (!std::isnan(score) && (std::isnan(best[i]) || std::abs(score) > std::abs(best[i]))) {
        best[i] = score;
      }
    }
  }
  return best;
}

PathCircuit path_circuit(HookedModel& model, const std::vector<PatchingPair>& pairs,
                         const PathReceivers& first, const PathCircuitOptions& options,
                         const WorkSplit& split) {
  const auto start = std::chrono::steady_clock::now();
  HS_ASSERT(!options.inputs.empty() && options.top_fraction >= 0.0 && options.top_fraction <= 1.0);
  HS_ASSERT(first.logits != !first.heads.empty());
  check_patching_pairs(pairs, options.patching.metric, "path patching");
  const ModelConfig& config = model.model().config();
  if (default_senders(config, first).empty()) {
    throw InvalidInput("--receivers " + receivers_text(first) +
                       ": no head precedes the receivers (they are all in layer 0), so there is no "
                       "sender to patch");
  }
  torch::NoGradGuard no_grad;
  PathPatcher patcher(model, pairs, options.patching, split);
  PathCircuit circuit;
  circuit.n_layers = config.n_layers;
  circuit.n_heads = config.n_heads;
  circuit.stage_of_head.assign(static_cast<size_t>(config.n_layers * config.n_heads), -1);
  const auto flat = [&config](const HeadIndex& h) {
    return static_cast<size_t>(h.layer * config.n_heads + h.head);
  };
  PathReceivers receivers = first;
  for (int64_t stage = 0;; ++stage) {
    const std::vector<HeadIndex> senders = default_senders(config, receivers);
    if (senders.empty()) break;
    PathStage step;
    step.receivers = receivers;
    step.result = patcher.run(receivers, senders);
    std::tie(step.selected, step.cut) = select_senders(step.result, options);
    if (receivers.logits) {
      for (const HeadIndex& s : step.selected) {
        circuit.edges.push_back(
            {{head_node_name(s), "logits", step.result.scores[flat(s)]}, stage});
      }
    } else {
      for (const HeadReceiver& r : receivers.heads) {
        std::vector<HeadIndex> reaching;
        for (const HeadIndex& s : step.selected) {
          if (s.layer < r.at.layer) reaching.push_back(s);
        }
        if (reaching.empty()) continue;
        const PathPatchingResult edge = patcher.run({false, {r}}, reaching);
        for (const HeadIndex& s : reaching) {
          if (std::abs(edge.scores[flat(s)]) >=
              options.edge_fraction * std::abs(step.result.scores[flat(s)])) {
            circuit.edges.push_back(
                {{head_node_name(s), receiver_node_name(r), edge.scores[flat(s)]}, stage});
          }
        }
      }
    }
    for (const HeadIndex& s : step.selected) {
      if (circuit.stage_of_head[flat(s)] < 0) {
        circuit.stage_of_head[flat(s)] = stage;
        step.added.push_back(s);
      }
    }
    const std::vector<HeadIndex> added = step.added;
    circuit.stages.push_back(std::move(step));
    if (!options.iterative || added.empty()) break;
    receivers = PathReceivers();
    for (const HeadIndex& h : added) {
      for (const ReceiverInput input : options.inputs) receivers.heads.push_back({h, input});
    }
  }
  circuit.forward_passes = patcher.forward_passes();
  circuit.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return circuit;
}

}  // namespace headscope
