// Helpers shared by the zoo suites: a scratch directory and a copy task that needs no
// generator from analyses/.
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "analyses/tasks/task_sample.h"
#include "analyses/tasks/vocabulary.h"
#include "tests/support/temp_dir_test.h"
#include "zoo/recipe.h"

namespace headscope::test {

class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = unique_temp_path("zoo_" + std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// BOS, k words drawn from a pool of 24, EOS, the same k words again (the answer). Small and
// separated, so a CI-sized model learns it in a hundred steps.
inline TaskSample copy_sample(const TaskMix& task, int64_t length, uint64_t seed) {
  constexpr size_t kPool = 24;
  const Vocabulary& vocab = Vocabulary::builtin();
  const int64_t k = (length - 2) / 2;
  std::mt19937_64 rng(seed);
  TaskSample s;
  s.task = task.task;
  s.tokens.push_back(vocab.bos());
  for (int64_t i = 0; i < k; ++i) s.tokens.push_back(vocab.letter_words()[rng() % kPool]);
  s.tokens.push_back(vocab.eos());
  for (int64_t i = 0; i < k; ++i) s.tokens.push_back(s.tokens[static_cast<size_t>(1 + i)]);
  s.answer_begin = k + 2;
  s.answer_end = 2 * k + 2;
  return s;
}

}  // namespace headscope::test
