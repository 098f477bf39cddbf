#include "analyses/circuits/task_pairs.h"

#include "analyses/ablation/evaluation_samples.h"
#include "core/base/error.h"

namespace headscope {

PatchingPair pair_from_sample(const TaskSample& sample, const std::string& source) {
  if (sample.corrupted.size() != sample.tokens.size()) {
    throw InvalidInput(source + ": the " + sample.task +
                       " task has no corrupted twin of the same length to patch from");
  }
  // The answer must be predicted from a non-empty prompt.
  HS_ASSERT(sample.answer_begin >= 1 &&
            sample.answer_begin < static_cast<int64_t>(sample.tokens.size()));
  const auto prompt = static_cast<size_t>(sample.answer_begin);
  PatchingPair pair;
  pair.clean.assign(sample.tokens.begin(), sample.tokens.begin() + prompt);
  pair.corrupted.assign(sample.corrupted.begin(), sample.corrupted.begin() + prompt);
  pair.answer = sample.tokens[prompt];
  pair.distractor = sample.distractor;
  pair.position = sample.answer_begin - 1;
  pair.source = source;
  if (pair.clean == pair.corrupted) {
    throw InvalidInput(source + ": the corruption of this " + sample.task +
                       " sample lies outside its prompt, so patching cannot change anything");
  }
  return pair;
}

std::vector<PatchingPair> task_pairs(const ModelConfig& config, const std::string& task, int64_t n,
                                     int64_t length, uint64_t seed) {
  const std::vector<TaskSample> samples = evaluation_samples(config, task, n, length, seed);
  std::vector<PatchingPair> pairs;
  pairs.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    pairs.push_back(pair_from_sample(samples[i], task + " sample " + std::to_string(i)));
  }
  return pairs;
}

const PatchingPair* pair_without_distractor(const std::vector<PatchingPair>& pairs) {
  for (const PatchingPair& pair : pairs) {
    if (pair.distractor < 0) return &pair;
  }
  return nullptr;
}

}  // namespace headscope
