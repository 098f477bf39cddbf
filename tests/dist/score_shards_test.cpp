// The pieces a distributed scan adds to the group: task scores split by whole batches and put
// back together (analyses/tasks/score_shards.h), the part file names of a distributed recording,
// and the fault a test asks a rank for.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analyses/tasks/score_shards.h"
#include "core/base/error.h"
#include "core/store/part_files.h"
#include "dist/fault_injection.h"

namespace headscope {
namespace {

TEST(ScoreShards, BatchesCoverEverySampleOnce) {
  EXPECT_EQ(batch_costs(10, 4), (std::vector<double>{4, 4, 2}));
  EXPECT_EQ(batch_samples({2, 0}, 4, 10), (std::vector<int64_t>{0, 1, 2, 3, 8, 9}));
  EXPECT_EQ(batch_samples({}, 4, 10), std::vector<int64_t>{});
}

// Two shares scored apart and assembled give the score of one scorer over all samples, to the
// bit: the values are added in sample order either way.
TEST(ScoreShards, AssembledSharesEqualOneScorer) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Values {
    uint8_t correct;
    int64_t right;
    double loss, diff;
  };
  const std::vector<Values> values = {
      {1, 2, 0.1, 1.5}, {0, 1, 2.3, -0.25}, {1, 2, 0.7, nan}, {0, 0, 3.1, 0.125}, {1, 2, 1e-3, 2}};
  std::vector<TaskSample> samples(values.size());
  for (TaskSample& s : samples) s.answer_begin = 3, s.answer_end = 5;
  const auto add = [&](TaskScorer& scorer, size_t i) {
    scorer.add_scored(values[i].correct, values[i].right, 2, values[i].loss, values[i].diff);
  };
  TaskScorer all("t");
  for (size_t i = 0; i < values.size(); ++i) add(all, i);
  const std::vector<std::vector<int64_t>> shares = {{1, 3}, {0, 2, 4}};
  ScoreAssembler assembler(static_cast<int64_t>(values.size()));
  for (const auto& share : shares) {
    TaskScorer part("t");
    for (const int64_t i : share) add(part, static_cast<size_t>(i));
    ByteWriter out;
    put_sample_scores(out, part.result());
    ByteReader in(out.bytes(), "share");
    assembler.read(in, share);
    EXPECT_TRUE(in.done());
  }
  const TaskScore expected = all.result(), got = assembler.result("t", samples);
  EXPECT_EQ(got.accuracy, expected.accuracy);
  EXPECT_EQ(got.token_accuracy, expected.token_accuracy);
  EXPECT_EQ(got.answer_loss, expected.answer_loss);
  EXPECT_EQ(*got.mean_logit_diff, *expected.mean_logit_diff);
  EXPECT_EQ(got.sample_correct, expected.sample_correct);
  EXPECT_EQ(got.sample_loss, expected.sample_loss);
}

TEST(ScoreShards, AMissingSampleIsAnError) {
  ScoreAssembler assembler(2);
  TaskScorer part("t");
  part.add_scored(1, 1, 1, 0.5, 0.0);
  ByteWriter out;
  put_sample_scores(out, part.result());
  ByteReader in(out.bytes(), "share");
  assembler.read(in, {0});
  EXPECT_THROW(assembler.result("t", std::vector<TaskSample>(2)), IoError);
}

TEST(PartFiles, SitBesideTheMainFileWithTheExtensionLast) {
  EXPECT_EQ(part_file_path("dir/out.h5", 1), "dir/out.rank1.h5");
  EXPECT_EQ(part_file_path("out", 0), "out.rank0");
}

TEST(FaultInjection, ABadValueNamesTheVariable) {
  LaunchEnv env;
  env.world_size = 2;
  ::setenv(kDistKillVariable, "1", 1);
  try {
    kill_if_asked(env, 0);
    ADD_FAILURE() << "no error";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find(kDistKillVariable), std::string::npos) << e.what();
  }
  ::setenv(kDistKillVariable, "1:3", 1);
  kill_if_asked(env, 2);  // rank 0: not the rank asked for
  ::unsetenv(kDistKillVariable);
}

}  // namespace
}  // namespace headscope
