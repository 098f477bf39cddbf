// Sparse-config derivation: the capture estimator against exact masses, each format's files on
// hand-made evidence, and the readers' errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analyses/sparse/attention_capture.h"
#include "analyses/sparse/head_evidence.h"
#include "analyses/sparse/sparse_config_formats.h"
#include "core/base/error.h"
#include "core/store/hdf5_attribute.h"
#include "core/store/hdf5_handle.h"
#include "core/store/recording_schema.h"
#include "core/store/recording_writer.h"
#include "tests/support/error_message.h"
#include "tests/support/temp_dir_test.h"
#include "tests/support/tolerance.h"

namespace headscope {
namespace {

using ::testing::HasSubstr;
namespace tol = test::tol;

// Statistics exactly as the recorder defines them, from full probabilities [L, H, T, T].
StatsRun stats_from_probs(const torch::Tensor& probs, int64_t block, int64_t k) {
  StatsRun run;
  const int64_t L = probs.size(0), H = probs.size(1), T = probs.size(2),
                nb = (T + block - 1) / block;
  run.length = T, run.block_size = block, run.sink = 4, run.window = 8, run.k = k;
  auto top = probs.topk(k, -1);
  run.topk_prob = std::get<0>(top).to(torch::kFloat32);
  run.topk_index = std::get<1>(top).masked_fill(std::get<0>(top) <= 0, -1);
  run.topk_prob.masked_fill_(run.topk_index < 0, 0.0);
  auto i = torch::arange(T).view({T, 1}), j = torch::arange(T).view({1, T});
  run.sink_mass = (probs * (j < 4)).sum(-1).to(torch::kFloat32);
  run.local_mass = (probs * (j > i - 8)).sum(-1).to(torch::kFloat32);
  for (int64_t l = 0; l < L; ++l) {
    auto bm = torch::zeros({H, nb, nb});
    for (int64_t a = 0; a < nb; ++a) {
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t q0 = a * block, q1 = std::min(T, q0 + block);
        const int64_t k0 = b * block, k1 = std::min(T, k0 + block);
        bm.select(1, a).select(1, b).copy_(
            probs[l].narrow(1, q0, q1 - q0).narrow(2, k0, k1 - k0).sum(-1).mean(-1));
      }
    }
    run.block_mass.push_back(bm);
  }
  return run;
}

// Causal probabilities: head 0 attends to itself, head 1 uniformly, head 2 softmax of random
// scores.
torch::Tensor example_probs(int64_t T) {
  auto i = torch::arange(T).view({T, 1}), j = torch::arange(T).view({1, T});
  auto causal = j <= i;
  auto self = (i == j).to(torch::kFloat64);
  auto uniform = causal.to(torch::kFloat64) / (i + 1).to(torch::kFloat64);
  torch::manual_seed(11);
  auto random = torch::softmax(
      (torch::randn({T, T}, torch::kFloat64) * 2).masked_fill(causal.logical_not(), -1e30), -1);
  return torch::stack({self, uniform, random}).unsqueeze(0);  // [1, 3, T, T]
}

double exact_capture(const torch::Tensor& probs_head, const MaskRows& mask) {
  const int64_t T = probs_head.size(0);
  return (probs_head * mask(0, T, T).to(torch::kFloat64)).sum().item<double>() / T;
}

// Rounding of an estimate that is exact in exact arithmetic: the statistics are stored in float32
// (each row's top-k and tile masses sum to at most 1, so u per row for each), then float64 sums
// of up to T^2 terms here and in the estimator.
double rounding(int64_t T) {
  return 2.0 * tol::kFloat32 + 2.0 * tol::gamma(T * T + 4, tol::kFloat64);
}

// The estimator spreads a tile's unrecorded mass R (tile mass less its top-k entries) evenly,
// keeping f R where the mask keeps a fraction f of the tile's entries. What the statistics allow
// of the kept part: an unrecorded entry is at most its row's k-th probability c, so it lies in
// [max(0, R - Σ_dropped c), min(R, Σ_kept c)] (sums over unrecorded entries); f R errs by at most
// its distance to the far end. Summed over tiles, per row, plus rounding.
double spread_error(const StatsRun& run, const torch::Tensor& probs_head, int64_t h,
                    const MaskRows& mask) {
  const int64_t T = run.length, B = run.block_size, nb = (T + B - 1) / B;
  auto i = torch::arange(T).view({T, 1}), j = torch::arange(T).view({1, T});
  auto causal = (j <= i).to(torch::kFloat64);
  auto kept = mask(0, T, T).to(torch::kFloat64) * causal;
  const auto index = run.topk_index[0][h];
  auto recorded = torch::zeros({T, T}, torch::kFloat64)
                      .scatter_add_(1, index.clamp_min(0), (index >= 0).to(torch::kFloat64))
                      .clamp_max(1.0);
  auto per_tile = [&](const torch::Tensor& m) {
    auto padded = torch::constant_pad_nd(m, {0, nb * B - T, 0, nb * B - T});
    return padded.view({nb, B, nb, B}).sum({1, 3});
  };
  auto unrecorded = causal * (1.0 - recorded);
  auto c = run.topk_prob[0][h].select(-1, run.k - 1).to(torch::kFloat64).view({T, 1});
  auto r = per_tile(probs_head * unrecorded);
  auto f = per_tile(kept) / per_tile(causal).clamp_min(1.0);
  auto lo = (r - per_tile((causal - kept) * unrecorded * c)).clamp_min(0.0);
  auto hi = torch::minimum(r, per_tile(kept * unrecorded * c));
  auto err = torch::maximum((f * r - lo).abs(), (f * r - hi).abs());
  return err.sum().item<double>() / static_cast<double>(T) + rounding(T);
}

TEST(SparseCapture, ExactForFullAndTileAlignedPatternsCloseForStreaming) {
  const int64_t T = 64;
  auto probs = example_probs(T);
  auto run = stats_from_probs(probs, 8, 4);
  for (int64_t h = 0; h < 3; ++h) {
    const auto head = probs[0][h];
    const auto name = "head " + std::to_string(h);
    EXPECT_TRUE(tol::within(estimated_capture(run, 0, h, streaming_rows(0, T)), 1.0, rounding(T),
                            name + ", full"));
    auto blocks = block_rows(top_mass_blocks(run, 0, h, 2), 8);
    EXPECT_TRUE(tol::within(estimated_capture(run, 0, h, blocks), exact_capture(head, blocks),
                            rounding(T), name + ", blocks"));
    auto stream = streaming_rows(4, 8);
    EXPECT_TRUE(tol::within(estimated_capture(run, 0, h, stream), exact_capture(head, stream),
                            spread_error(run, head, h, stream), name + ", streaming"));
  }
  // The self-attending head keeps everything in any pattern holding the diagonal.
  EXPECT_TRUE(tol::within(estimated_capture(run, 0, 0, streaming_rows(0, 1)), 1.0, rounding(T),
                          "self, window 1"));
  // Uniform head, window 1: keeps 1/(i+1) per row; the tail is spread evenly over each tile's
  // rows, so this is close, not exact.
  double expected = 0;
  for (int64_t i = 0; i < T; ++i) expected += 1.0 / (i + 1);
  EXPECT_TRUE(tol::within(estimated_capture(run, 0, 1, streaming_rows(0, 1)), expected / T,
                          spread_error(run, probs[0][1], 1, streaming_rows(0, 1)),
                          "uniform, window 1"));
}

TEST(SparseCapture, VerticalSlashPicksTheHeaviestColumnsAndDiagonals) {
  const int64_t T = 32;
  auto probs = example_probs(T);
  auto run = stats_from_probs(probs, 8, 4);
  auto [columns, offsets] = top_vertical_slash(run, 0, 0, 1, 1);
  EXPECT_TRUE(offsets[0].item<bool>());  // the self-attending head lives on diagonal 0
  EXPECT_EQ(offsets.sum().item<int64_t>(), 1);
  EXPECT_EQ(columns.sum().item<int64_t>(), 1);
  EXPECT_TRUE(tol::within(estimated_capture(run, 0, 0, vertical_slash_rows(columns, offsets)), 1.0,
                          rounding(T), "self, vertical-slash"));
}

HeadEvidence score_evidence() {
  HeadEvidence e;
  e.path = "scores.h5";
  e.n_layers = 2, e.n_heads = 4, e.n_kv_heads = 2;
  e.retrieval_score =
      torch::tensor({0.9, 0.0, 0.3, 0.05, 0.0, 0.6, 0.02, 0.01}, torch::kFloat64).view({2, 4});
  return e;
}

ModelConfig model_config(int64_t layers, int64_t heads, int64_t kv_heads) {
  ModelConfig c;
  c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads;
  return c;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SparseConfigFiles : public test::TempDirTest {};

TEST_F(SparseConfigFiles, HeadscopeConfigStreamsTheLowestRetrievalHeads) {
  auto result = write_sparse_configs(score_evidence(), SparseFormat::kHeadscope, path("hs"),
                                     SparseConfigOptions().with_sparsity(0.5).with_window(16));
  EXPECT_EQ(result.score_source, "retrieval");
  EXPECT_DOUBLE_EQ(result.sparse_fraction, 0.5);
  auto config = read_executable_config(path("hs"), model_config(2, 4, 2));
  const std::vector<std::pair<int, int>> streaming = {{0, 1}, {1, 0}, {1, 2}, {1, 3}};
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) {
      const bool expect_streaming =
          std::find(streaming.begin(), streaming.end(), std::pair{l, h}) != streaming.end();
      const auto& head = config.heads[l][h];
      EXPECT_EQ(head.kind == SparseKind::kStreaming, expect_streaming) << l << "." << h;
      if (expect_streaming) {
        EXPECT_EQ(head.sink, 4);
        EXPECT_EQ(head.window, 16);
      }
    }
  }
  EXPECT_EQ(config.parameters["score"], "retrieval");
  EXPECT_EQ(config.parameters["sparsity"], 0.5);
}

TEST_F(SparseConfigFiles, DuoGatesArePerKvHeadAndBinarisedBySparsity) {
  write_sparse_configs(score_evidence(), SparseFormat::kDuo, path("scores"), {});
  // Max over each KV group of two query heads, clamped to [0, 1].
  EXPECT_EQ(read_text(path("scores/full_attention_heads.tsv")),
            "9.000000000000000222e-01\t2.999999999999999889e-01\n"
            "5.999999999999999778e-01\t2.000000000000000042e-02\n");
  write_sparse_configs(score_evidence(), SparseFormat::kDuo, path("binary"),
                       SparseConfigOptions().with_sparsity(0.5).with_sink(2).with_window(8));
  EXPECT_EQ(read_text(path("binary/full_attention_heads.tsv")),
            "1.000000000000000000e+00\t0.000000000000000000e+00\n"
            "1.000000000000000000e+00\t0.000000000000000000e+00\n");
  auto json = nlohmann::json::parse(read_text(path("binary/config.json")));
  EXPECT_EQ(json["sink_size"], 2);
  EXPECT_EQ(json["recent_size"], 8);
  // The executable form streams both query heads of each gated-off KV head.
  auto config = read_executable_config(path("binary"), model_config(2, 4, 2));
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) {
      EXPECT_EQ(config.heads[l][h].kind == SparseKind::kStreaming, h >= 2) << l << "." << h;
    }
  }
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { read_executable_config(path("binary"), model_config(2, 4, 4)); }),
              HasSubstr("row 0 has 2 columns, the model has 4 KV heads"));
}

TEST_F(SparseConfigFiles, MoaSpansFollowHowFarEachHeadLooks) {
  HeadEvidence e;
  e.path = "stats.h5";
  e.n_layers = 1, e.n_heads = 3, e.n_kv_heads = 3;
  e.stats.push_back(stats_from_probs(example_probs(128), 8, 4));
  write_sparse_configs(e, SparseFormat::kMoa, path("moa"),
                       SparseConfigOptions().with_coverage(0.9));
  auto plan = nlohmann::json::parse(read_text(path("moa/moa_alpha_beta.json")));
  // Self-attention: one block whatever the length.
  EXPECT_EQ(plan["betas"][0][0], 0.0);
  EXPECT_EQ(plan["alphas"][0][0], 8.0);
  // Uniform attention: the span must grow with the length, about 0.9 N.
  EXPECT_GE(plan["betas"][0][1].get<double>(), 0.75);
  const auto csv = read_text(path("moa/opt_alpha_beta.csv"));
  EXPECT_EQ(csv.substr(0, csv.find('\n')), ",plan_id,layer_id,head_id,alpha_value,beta_value");
  EXPECT_NE(csv.find("\n0,0,0,0,8.0,0.000\n"), std::string::npos) << csv;
}

TEST_F(SparseConfigFiles, MInferenceKeepsThePatternHoldingTheMostMass) {
  HeadEvidence e;
  e.path = "stats.h5";
  e.n_layers = 1, e.n_heads = 3, e.n_kv_heads = 3;
  e.stats.push_back(stats_from_probs(example_probs(64), 8, 4));
  write_sparse_configs(e, SparseFormat::kMInference, path("mi"), {});
  auto layers = nlohmann::json::parse(read_text(path("mi/minference_best_pattern.json")));
  ASSERT_EQ(layers.size(), 1u);
  ASSERT_EQ(layers[0].size(), 3u);
  // The self-attending head is fully held by the first candidate (stream_llm).
  EXPECT_EQ(layers[0]["0"][0], "stream_llm");
  EXPECT_EQ(layers[0]["0"][3], 1.0);
  for (const auto& [head, entry] : layers[0].items()) {
    EXPECT_THAT(entry[0].get<std::string>(),
                ::testing::AnyOf("stream_llm", "vertical_and_slash", "block_sparse"));
    EXPECT_GE(entry[3].get<double>(), 0.0);
    EXPECT_LE(entry[3].get<double>(), 1.0);
  }
  // The uniform head: block_sparse (keeps whole blocks) holds more than the thin patterns.
  EXPECT_EQ(layers[0]["1"][0], "block_sparse");
}

TEST_F(SparseConfigFiles, StatsRankingStreamsTheMostLocalHeads) {
  HeadEvidence e;
  e.path = "stats.h5";
  e.n_layers = 1, e.n_heads = 3, e.n_kv_heads = 3;
  e.stats.push_back(stats_from_probs(example_probs(64), 8, 4));
  auto ranking = rank_heads(e, SparseConfigOptions().with_score("auto"));
  EXPECT_EQ(ranking.source, "stats");
  // Self-attention loses nothing: 1 - its capture, exact up to rounding.
  EXPECT_TRUE(tol::within(ranking.score[0][0].item<double>(), 0.0, 2.0 * rounding(64), "self"));
  auto config = config_from_scores(ranking.score, 1.0 / 3.0, sparse_head_template(e, {}));
  EXPECT_EQ(config.heads[0][0].kind, SparseKind::kStreaming);
  EXPECT_EQ(config.heads[0][0].sink, 4);  // the statistics' sink and window
  EXPECT_EQ(config.heads[0][0].window, 8);
  EXPECT_THAT(test::error_message<InvalidInput>([&] {
                write_sparse_configs(score_evidence(), SparseFormat::kMoa, path("x"), {});
              }),
              HasSubstr("--format moa needs attention statistics"));
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { rank_heads(e, SparseConfigOptions().with_score("retrieval")); }),
              HasSubstr("--score retrieval needs /analyses/retrieval_heads/score"));
}

void write_score_file(const std::string& path, const torch::Tensor& score, int64_t layers,
                      int64_t heads) {
  h5_init();
  const H5Where where{path, ""};
  H5Id file = h5_own(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                     H5Kind::kFile, where, "create");
  h5_write_int_attribute(file.get(), "n_layers", layers, where);
  h5_write_int_attribute(file.get(), "n_heads", heads, where);
  h5_write_int_attribute(file.get(), "n_kv_heads", heads, where);
  H5Id lcpl = h5_own(H5Pcreate(H5P_LINK_CREATE), H5Kind::kPropList, where, "plist");
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  const hsize_t dims[2] = {static_cast<hsize_t>(score.size(0)),
                           static_cast<hsize_t>(score.size(1))};
  H5Id space = h5_own(H5Screate_simple(2, dims, nullptr), H5Kind::kDataspace, where, "space");
  H5Id dataset = h5_own(H5Dcreate2(file.get(), kRetrievalScoreDataset, H5T_IEEE_F64LE, space.get(),
                                   lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                        H5Kind::kDataset, where, "create");
  auto contiguous = score.to(torch::kFloat64).contiguous();
  h5_check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                    contiguous.data_ptr<double>()),
           where, "write");
}

TEST_F(SparseConfigFiles, ReadsRetrievalScoresAndRejectsFilesWithoutEvidence) {
  auto score = score_evidence().retrieval_score->clone();
  write_score_file(path("scores.h5"), score, 2, 4);
  auto e = read_head_evidence(path("scores.h5"));
  EXPECT_EQ(e.n_layers, 2);
  ASSERT_TRUE(e.retrieval_score.has_value());
  EXPECT_TRUE(e.retrieval_score->equal(score));
  EXPECT_TRUE(e.stats.empty());

  write_score_file(path("wrong.h5"), score, 3, 4);
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read_head_evidence(path("wrong.h5")); }),
              HasSubstr("is [2, 4] but the file's model has 3 layers x 4 heads"));
  {
    h5_init();
    H5Id f = h5_own(H5Fcreate(path("empty.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                    H5Kind::kFile, {path("empty.h5"), ""}, "create");
  }
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read_head_evidence(path("empty.h5")); }),
              HasSubstr("holds neither retrieval scores"));
  EXPECT_THROW(read_head_evidence(path("missing.h5")), IoError);
}

// A statistics run as the recorder writes it (the schema's names, block_mass/layer_00 ...),
// with `block_layers` of its layers' block_mass.
void write_stats_recording(const std::string& path, int64_t block_layers) {
  constexpr int64_t kLayers = 2, kHeads = 2, kLength = 8, kK = 2, kBlock = 4;
  ModelSummary model;
  model.family = "llama";
  model.n_layers = kLayers, model.n_heads = kHeads, model.n_kv_heads = kHeads;
  model.d_head = 4, model.d_model = 8, model.vocab_size = 16;
  model.config_json = "{}";
  RecordingWriter writer = RecordingWriter::create(path, model);
  RunWriter run = writer.begin_run();
  const std::vector<float> rows(kLayers * kHeads * kLength, 0.5f);
  const std::vector<float> ranked(rows.size() * kK, 0.25f);
  const std::vector<int32_t> index(ranked.size(), 0);
  for (const char* name : {kStatSinkMass, kStatLocalMass}) {
    run.write_array(attention_stats_path(name), DType::kF32, {kLayers, kHeads, kLength},
                    DType::kF32, rows.data());
  }
  run.write_array(attention_stats_path(kStatTopkProb), DType::kF32,
                  {kLayers, kHeads, kLength, kK}, DType::kF32, ranked.data());
  run.write_array(attention_stats_path(kStatTopkIndex), DType::kI32,
                  {kLayers, kHeads, kLength, kK}, DType::kI32, index.data());
  const int64_t blocks = kLength / kBlock;
  const std::vector<float> mass(kHeads * blocks * blocks, 0.5f);
  for (int64_t layer = 0; layer < block_layers; ++layer) {
    run.write_array(block_mass_path(layer), DType::kF32, {kHeads, blocks, blocks}, DType::kF32,
                    mass.data());
  }
  run.set_attribute(kAttentionStats, kAttrBlockSize, kBlock);
  run.set_attribute(kAttentionStats, kAttrSink, 1);
  run.set_attribute(kAttentionStats, kAttrWindow, 2);
  run.set_attribute(kAttentionStats, kAttrTopK, kK);
  run.commit();
  writer.finish();
}

TEST_F(SparseConfigFiles, ReadsStatisticsByTheSchemaNames) {
  write_stats_recording(path("stats.h5"), 2);
  const HeadEvidence e = read_head_evidence(path("stats.h5"));
  ASSERT_EQ(e.stats.size(), 1u);
  EXPECT_EQ(e.stats[0].block_size, 4);
  EXPECT_EQ(e.stats[0].k, 2);
  ASSERT_EQ(e.stats[0].block_mass.size(), 2u);
  EXPECT_EQ(e.stats[0].block_mass[1].sizes().vec(), (std::vector<int64_t>{2, 2, 2}));

  write_stats_recording(path("no_layer_1.h5"), 1);
  EXPECT_THAT(
      test::error_message<InvalidInput>([&] { read_head_evidence(path("no_layer_1.h5")); }),
      HasSubstr("run 0: no attention_stats/block_mass/layer_01 (block_mass of layer 1)"));
}

TEST_F(SparseConfigFiles, HeadscopeReaderNamesTheBadField) {
  auto write = [&](const std::string& text) {
    std::ofstream(path("c.json")) << text;
    return path("c.json");
  };
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read_sparse_config(write("{nope")); }),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(test::error_message<InvalidInput>([&] { read_sparse_config(write("{\"a\": 1}")); }),
              HasSubstr("not a headscope sparse config"));
  const std::string head =
      R"({"format": "headscope-sparse", "version": 1, "n_layers": 1, "n_heads": 2, "heads": )";
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { read_sparse_config(write(head + R"([[{"kind": "full"}]]})")); }),
              HasSubstr(".heads[0]: expected a list of 2 heads"));
  EXPECT_THAT(test::error_message<InvalidInput>([&] {
                read_sparse_config(
                    write(head + R"([[{"kind": "full"}, {"kind": "streaming", "sink": 4}]]})"));
              }),
              HasSubstr(".heads[0][1].window: expected an integer"));
  EXPECT_THAT(test::error_message<InvalidInput>([&] {
                read_sparse_config(write(head + R"([[{"kind": "full"}, {"kind": "dense"}]]})"));
              }),
              HasSubstr("unknown kind \"dense\""));
  auto ok = read_sparse_config(write(
      head +
      R"([[{"kind": "full"}, {"kind": "block_sparse", "block_size": 16, "topk_blocks": 2}]]})"));
  EXPECT_EQ(ok.heads[0][1].kind, SparseKind::kBlockSparse);
  EXPECT_EQ(ok.heads[0][1].topk_blocks, 2);
  EXPECT_THAT(test::error_message<InvalidInput>(
                  [&] { check_config_matches_model(ok, model_config(2, 2, 2), "c.json"); }),
              HasSubstr("c.json: the config is for 1 layers x 2 heads, the model has 2 x 2"));
  // Round trip of the writer.
  write_sparse_config(path("round.json"), ok);
  EXPECT_EQ(sparse_config_to_json(read_sparse_config(path("round.json"))).dump(),
            sparse_config_to_json(ok).dump());
}

TEST(SparseShuffle, KeepsTheHeadKindsAndChangesTheirPlaces) {
  auto config = SparseModelConfig::dense(4, 8);
  for (int h = 0; h < 8; ++h) config.heads[0][h].kind = SparseKind::kStreaming;
  auto a = shuffled_config(config, 1), b = shuffled_config(config, 1),
       c = shuffled_config(config, 2);
  EXPECT_DOUBLE_EQ(a.sparse_head_fraction(), config.sparse_head_fraction());
  EXPECT_EQ(sparse_config_to_json(a).dump(), sparse_config_to_json(b).dump());
  EXPECT_NE(sparse_config_to_json(a)["heads"].dump(), sparse_config_to_json(c)["heads"].dump());
  EXPECT_NE(sparse_config_to_json(a)["heads"].dump(),
            sparse_config_to_json(config)["heads"].dump());
}

}  // namespace
}  // namespace headscope
