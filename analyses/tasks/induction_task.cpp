#include "analyses/tasks/induction_task.h"

#include <algorithm>
#include <random>

#include "analyses/tasks/task_random.h"
#include "analyses/tasks/vocabulary.h"
#include "core/base/error.h"

namespace headscope {

TaskSample induction_task(const TaskOptions& options) {
  const int64_t repeat = (options.length - 1) / 2;
  if (repeat < kInductionMinRepeat) {
    throw InvalidInput("induction_task: length " + std::to_string(options.length) +
                       " leaves fewer than " + std::to_string(kInductionMinRepeat) +
                       " tokens per copy");
  }
  const Vocabulary& vocab = Vocabulary::builtin();
  std::mt19937_64 rng(options.seed);
  const auto draw = [&] {
    std::vector<int32_t> tokens(static_cast<size_t>(repeat));
    for (int32_t& token : tokens) token = random_pick(rng, vocab.letter_words());
    return tokens;
  };
  const std::vector<int32_t> first = draw();

  TaskSample sample;
  sample.task = "induction";
  sample.tokens.push_back(vocab.bos());
  sample.tokens.insert(sample.tokens.end(), first.begin(), first.end());
  sample.tokens.insert(sample.tokens.end(), first.begin(), first.end());
  // The second copy's first token is unpredictable (nothing marks where the repeat starts); it
  // is the cue, and every token after it is the induction answer.
  sample.answer_begin = 2 + repeat;
  sample.answer_end = 1 + 2 * repeat;

  const std::vector<int32_t> other = draw();
  sample.corrupted = sample.tokens;
  std::copy(other.begin(), other.end(), sample.corrupted.begin() + 1);

  sample.metadata = {{"repeat_begin", std::to_string(1 + repeat)},
                     {"repeat_length", std::to_string(repeat)}};
  return sample;
}

}  // namespace headscope
