// The pieces of a distributed launch that need no second process: reading the launcher's
// variables, the cost-balanced split of a scan, and results crossing ranks as bytes.
#include <map>
#include <numeric>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analyses/retrieval/retrieval_sample_codec.h"
#include "core/base/error.h"
#include "dist/byte_codec.h"
#include "dist/launch_env.h"
#include "dist/sample_shard.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;

LaunchEnv env_of(const std::map<std::string, std::string>& vars) {
  return launch_env_from([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    env_of(vars);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

TEST(LaunchEnv, NoVariablesIsOneProcess) {
  const LaunchEnv env = env_of({});
  EXPECT_FALSE(env.distributed());
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.launcher, "");
}

TEST(LaunchEnv, ReadsTorchrunAndOpenMpi) {
  const LaunchEnv t = env_of({{"RANK", "2"},
                              {"WORLD_SIZE", "4"},
                              {"LOCAL_RANK", "0"},
                              {"MASTER_ADDR", "node7"},
                              {"MASTER_PORT", "29611"},
                              {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                              {"TORCHELASTIC_RESTART_COUNT", "1"}});
  EXPECT_EQ(t.launcher, "torchrun");
  EXPECT_EQ(t.rank, 2);
  EXPECT_EQ(t.world_size, 4);
  EXPECT_EQ(t.local_rank, 0);
  EXPECT_EQ(t.master_addr, "node7");
  EXPECT_EQ(t.master_port, 29611);
  EXPECT_TRUE(t.agent_store);
  EXPECT_EQ(t.attempt, 1);
  const LaunchEnv m = env_of({{"OMPI_COMM_WORLD_RANK", "1"},
                              {"OMPI_COMM_WORLD_SIZE", "3"},
                              {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}});
  EXPECT_EQ(m.launcher, "mpirun");
  EXPECT_EQ(m.rank, 1);
  EXPECT_EQ(m.world_size, 3);
  EXPECT_FALSE(m.agent_store);
  EXPECT_EQ(m.master_addr, "127.0.0.1");
  EXPECT_EQ(m.master_port, 29500);
}

TEST(LaunchEnv, BadValuesNameTheVariable) {
  EXPECT_THAT(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}),
              HasSubstr("RANK=\"2\": expected an integer in [0, 1]"));
  EXPECT_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "two"}}), HasSubstr("WORLD_SIZE=\"two\""));
  EXPECT_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "0"}}), HasSubstr("WORLD_SIZE=\"0\""));
  EXPECT_THAT(error_of({{"RANK", "0"}}), HasSubstr("WORLD_SIZE is not set but RANK is"));
  EXPECT_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}),
              HasSubstr("MASTER_PORT=\"70000\""));
  EXPECT_THAT(error_of({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}), HasSubstr("RANK=\"-1\""));
  EXPECT_THAT(error_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "1x"}}),
              HasSubstr("LOCAL_RANK=\"1x\""));
}

TEST(LaunchEnv, LocalWorldSizeDefaultsToTheWorld) {
  EXPECT_EQ(env_of({{"RANK", "0"}, {"WORLD_SIZE", "4"}}).local_world_size, 4);
  EXPECT_EQ(
      env_of({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"LOCAL_WORLD_SIZE", "2"}}).local_world_size, 2);
  EXPECT_EQ(env_of({{"OMPI_COMM_WORLD_RANK", "0"},
                    {"OMPI_COMM_WORLD_SIZE", "8"},
                    {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}})
                .local_world_size,
            4);
  EXPECT_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_WORLD_SIZE", "3"}}),
              HasSubstr("LOCAL_WORLD_SIZE=\"3\": expected an integer in [1, 2]"));
}

TEST(RankThreads, ShareOfTheCoresUnlessTheUserChose) {
  const LaunchEnv single;
  const LaunchEnv torchrun =
      env_of({{"RANK", "1"}, {"WORLD_SIZE", "6"}, {"LOCAL_WORLD_SIZE", "3"}});
  const LaunchEnv mpirun = env_of({{"OMPI_COMM_WORLD_RANK", "0"},
                                   {"OMPI_COMM_WORLD_SIZE", "4"},
                                   {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}});
  // One process keeps LibTorch's count; --threads always wins.
  EXPECT_EQ(rank_threads(single, 0, nullptr, 16), 0);
  EXPECT_EQ(rank_threads(single, 3, nullptr, 16), 3);
  EXPECT_EQ(rank_threads(torchrun, 5, "1", 16), 5);
  // A launch: cores over this host's processes, at least one.
  EXPECT_EQ(rank_threads(torchrun, 0, nullptr, 16), 5);
  EXPECT_EQ(rank_threads(mpirun, 0, nullptr, 16), 4);
  EXPECT_EQ(rank_threads(mpirun, 0, nullptr, 2), 1);
  // torchrun's own OMP_NUM_THREADS=1 is not the user's choice; any other value is.
  EXPECT_EQ(rank_threads(torchrun, 0, "1", 16), 5);
  EXPECT_EQ(rank_threads(torchrun, 0, "2", 16), 0);
  EXPECT_EQ(rank_threads(mpirun, 0, "1", 16), 0);
}

TEST(ShardByCost, EveryRankTakesADisjointShareAndTheUnionIsAll) {
  std::vector<double> costs;
  for (int i = 0; i < 37; ++i) costs.push_back(64.0 * (1 + i % 5));
  for (int64_t world : {1, 2, 3, 5, 64}) {
    std::set<int64_t> seen;
    double heaviest = 0.0;
    for (int64_t rank = 0; rank < world; ++rank) {
      const auto mine = shard_by_cost(costs, rank, world);
      double load = 0.0;
      for (size_t i = 0; i < mine.size(); ++i) {
        EXPECT_TRUE(seen.insert(mine[i]).second) << "sample " << mine[i] << " twice";
        load += costs[static_cast<size_t>(mine[i])];
        // Most expensive first.
        if (i > 0) {
          EXPECT_GE(costs[static_cast<size_t>(mine[i - 1])], costs[static_cast<size_t>(mine[i])]);
        }
      }
      heaviest = std::max(heaviest, load);
      EXPECT_EQ(mine, shard_by_cost(costs, rank, world)) << "not deterministic";
    }
    EXPECT_EQ(seen.size(), costs.size()) << "world " << world;
    // Greedy longest-first never exceeds the mean load by more than one sample's cost.
    const double total = std::accumulate(costs.begin(), costs.end(), 0.0);
    EXPECT_LE(heaviest, total / static_cast<double>(world) + 320.0) << "world " << world;
  }
}

TEST(ShardByCost, EqualCostsSplitEvenly) {
  const std::vector<double> zeros(10, 0.0);
  EXPECT_EQ(shard_by_cost(zeros, 0, 3).size(), 4u);
  EXPECT_EQ(shard_by_cost(zeros, 1, 3).size(), 3u);
  EXPECT_EQ(shard_by_cost(zeros, 2, 3).size(), 3u);
}

TEST(ByteCodec, RoundTripsAndRejectsShortPayloads) {
  ByteWriter w;
  w.put<int64_t>(-7);
  w.put_string("needle\n");
  w.put_vector(std::vector<int32_t>{1, 2, 3});
  const auto t = torch::arange(12, torch::kFloat64).view({3, 4});
  w.put_tensor(t);
  w.put_tensor(torch::Tensor());
  ByteReader r(w.bytes(), "test payload");
  EXPECT_EQ(r.get<int64_t>(), -7);
  EXPECT_EQ(r.get_string(), "needle\n");
  EXPECT_EQ(r.get_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(torch::equal(r.get_tensor(), t));
  EXPECT_FALSE(r.get_tensor().defined());
  EXPECT_TRUE(r.done());
  for (size_t cut : {size_t{0}, size_t{5}, size_t{12}, w.bytes().size() - 1}) {
    const std::string part = w.bytes().substr(0, cut);
    ByteReader short_reader(part, "rank 1's results");
    try {
      short_reader.get<int64_t>();
      short_reader.get_string();
      short_reader.get_vector<int32_t>();
      short_reader.get_tensor();
      short_reader.get_tensor();
      ADD_FAILURE() << "a payload cut at " << cut << " bytes was read";
    } catch (const IoError& e) {
      EXPECT_THAT(e.what(), HasSubstr("rank 1's results"));
    }
  }
}

TEST(RetrievalSampleCodec, RoundTripsEveryField) {
  RetrievalSample s;
  s.index = 5;
  s.length = 96;
  s.depth = 0.5;
  s.needle = 2;
  s.prompt = {1, 17, 4};
  s.answer_begin = 1;
  s.answer_end = 2;
  s.generated = {17, 9};
  s.text = " seventeen\n";
  s.rouge = 1.0;
  s.accepted = true;
  s.argmax = torch::randint(0, 96, {2, 4, 8}, torch::kInt64);
  s.score = torch::rand({4, 8}, torch::kFloat64);
  const auto back = decode_retrieval_samples(encode_retrieval_samples({s, s}), "results");
  ASSERT_EQ(back.size(), 2u);
  const RetrievalSample& b = back[1];
  EXPECT_EQ(b.index, 5);
  EXPECT_EQ(b.length, 96);
  EXPECT_EQ(b.depth, 0.5);
  EXPECT_EQ(b.needle, 2);
  EXPECT_EQ(b.prompt, s.prompt);
  EXPECT_EQ(b.answer_begin, 1);
  EXPECT_EQ(b.answer_end, 2);
  EXPECT_EQ(b.generated, s.generated);
  EXPECT_EQ(b.text, s.text);
  EXPECT_EQ(b.rouge, 1.0);
  EXPECT_TRUE(b.accepted);
  EXPECT_TRUE(torch::equal(b.argmax, s.argmax));
  EXPECT_TRUE(torch::equal(b.score, s.score));
  EXPECT_THROW(decode_retrieval_samples(encode_retrieval_samples({s}) + "x", "results"), IoError);
}

}  // namespace
}  // namespace headscope
