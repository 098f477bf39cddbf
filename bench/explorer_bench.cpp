// The explorer on long statistics-only recordings (synthetic, written here with core/store's
// writer in the layout `headscope record --attention stats` writes): time from opening the file
// to the first picture of the attention view (the head's block_mass read and drawn), and of one
// zoom step at the deepest run length (the visible region's top-k lists read and drawn, and a
// picked query's row and column listed). And on pattern-only recordings (hook_pattern of one
// head, no statistics): the time to build the overview, the pattern's block sums read tile by
// tile (gui/models/attention_map.h). Offscreen; prints JSON. No LibTorch.
//
//   explorer_bench [--tokens 32768,131072] [--pattern-tokens 4096,8192] [--dir DIR]
//                  [--repeats N] [--keep]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtWidgets/QApplication>

#include "core/store/recording_schema.h"
#include "core/store/recording_writer.h"
#include "gui/app/main_window.h"
#include "gui/models/attention_map.h"
#include "gui/models/open_file.h"
#include "gui/views/attention_canvas.h"
#include "gui/views/attention_view.h"

namespace {

using headscope::DType;
using Clock = std::chrono::steady_clock;

constexpr int64_t kLayers = 2, kHeads = 4, kBlock = 64, kTopK = 8, kSink = 4, kWindow = 64;

headscope::ModelSummary bench_model() {
  headscope::ModelSummary model;
  model.family = "llama";
  model.n_layers = kLayers;
  model.n_heads = kHeads;
  model.n_kv_heads = kHeads;
  model.d_head = 16;
  model.d_model = 64;
  model.vocab_size = 1000;
  model.model_path = "/models/explorer-bench";
  model.config_json = "{}";
  return model;
}

// A sink-and-local head: a third of each query's mass on the first block, the rest on its own
// block and the one before; top-k keys the query itself, its predecessors and the sink.
void write_recording(const std::string& path, int64_t tokens) {
  auto writer = headscope::RecordingWriter::create(path, bench_model());
  headscope::RunWriter run = writer.begin_run();
  std::vector<int32_t> ids(static_cast<size_t>(tokens));
  std::vector<std::string> text(static_cast<size_t>(tokens));
  for (int64_t i = 0; i < tokens; ++i) {
    ids[static_cast<size_t>(i)] = static_cast<int32_t>(i % 1000);
    text[static_cast<size_t>(i)] = " w" + std::to_string(i % 1000);
  }
  run.write_tokens(ids);
  run.write_token_text(text);
  for (const char* name : {headscope::kStatEntropy, headscope::kStatSinkMass,
                           headscope::kStatLocalMass, headscope::kStatMaxProb}) {
    std::vector<float> values(static_cast<size_t>(kLayers * kHeads * tokens));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = 0.25f + 0.5f * static_cast<float>(i % 13) / 13;
    run.write_array(headscope::attention_stats_path(name), DType::kF32, {kLayers, kHeads, tokens},
                    DType::kF32, values.data());
  }
  std::vector<int32_t> topk_index;
  std::vector<float> topk_prob;
  topk_index.reserve(static_cast<size_t>(kLayers * kHeads * tokens * kTopK));
  topk_prob.reserve(topk_index.capacity());
  for (int64_t lh = 0; lh < kLayers * kHeads; ++lh) {
    for (int64_t q = 0; q < tokens; ++q) {
      for (int64_t j = 0; j < kTopK; ++j) {
        const bool sink = j == kTopK - 1 && q >= kTopK;
        topk_index.push_back(static_cast<int32_t>(sink ? 0 : std::max<int64_t>(q - j, 0)));
        topk_prob.push_back(sink ? 0.3f : 0.4f / static_cast<float>(j + 1));
      }
    }
  }
  run.write_array(headscope::attention_stats_path(headscope::kStatTopkIndex), DType::kI32,
                  {kLayers, kHeads, tokens, kTopK}, DType::kI32, topk_index.data());
  run.write_array(headscope::attention_stats_path(headscope::kStatTopkProb), DType::kF32,
                  {kLayers, kHeads, tokens, kTopK}, DType::kF32, topk_prob.data());
  const int64_t blocks = (tokens + kBlock - 1) / kBlock;
  std::vector<float> mass(static_cast<size_t>(kHeads * blocks * blocks), 0.0f);
  for (int64_t h = 0; h < kHeads; ++h) {
    for (int64_t qb = 0; qb < blocks; ++qb) {
      float* row = mass.data() + (h * blocks + qb) * blocks;
      row[0] += kBlock / 3.0f;
      row[qb] += kBlock / 2.0f;
      if (qb > 0) row[qb - 1] += kBlock / 6.0f;
    }
  }
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    run.write_array(headscope::block_mass_path(layer), DType::kF32, {kHeads, blocks, blocks},
                    DType::kF32, mass.data());
  }
  run.set_attribute(headscope::kAttentionStats, headscope::kAttrBlockSize, kBlock);
  run.set_attribute(headscope::kAttentionStats, headscope::kAttrSink, kSink);
  run.set_attribute(headscope::kAttentionStats, headscope::kAttrWindow, kWindow);
  run.set_attribute(headscope::kAttentionStats, headscope::kAttrTopK, kTopK);
  run.commit();
  writer.finish();
}

// Layer 1's hook_pattern, head 2 written (the other heads left zero): causal rows of
// pseudo-random weights normalised to 1, so the chunks compress about as real attention does.
// Written 512 rows (one row of chunks) at a time.
void write_pattern_recording(const std::string& path, int64_t tokens) {
  auto writer = headscope::RecordingWriter::create(path, bench_model());
  headscope::RunWriter run = writer.begin_run();
  std::vector<int32_t> ids(static_cast<size_t>(tokens));
  for (int64_t i = 0; i < tokens; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>(i % 1000);
  run.write_tokens(ids);
  const std::string name = "blocks.1.attn.hook_pattern";
  run.create_array(name, DType::kF32, {kHeads, tokens, tokens});
  constexpr int64_t kRows = 512;
  std::vector<float> band;
  uint64_t state = 88172645463325252ull;
  for (int64_t q0 = 0; q0 < tokens; q0 += kRows) {
    const int64_t rows = std::min(kRows, tokens - q0);
    band.assign(static_cast<size_t>(rows * tokens), 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = band.data() + r * tokens;
      double total = 0;
      for (int64_t k = 0; k <= q0 + r; ++k) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;  // xorshift64
        row[k] = static_cast<float>(std::exp(3.0 * static_cast<double>(state >> 11) * 0x1p-53));
        total += row[k];
      }
      for (int64_t k = 0; k <= q0 + r; ++k) row[k] = static_cast<float>(row[k] / total);
    }
    run.write_slab(name, {2, q0, 0}, {1, rows, tokens}, DType::kF32, band.data());
  }
  run.commit();
  writer.finish();
}

void wait_idle(const headscope::gui::MainWindow& window) {
  do {
    while (window.busy()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 5);
    QCoreApplication::processEvents();
  } while (window.busy());
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Timing {
  double first_picture_ms;
  double zoom_step_ms;
  double pick_ms;
};

// Opens the file in a new window, shows the attention view of layer 1, head 2, then zooms to
// 256 positions around 70% of the run and picks a query there.
Timing measure(const std::string& path, int64_t tokens) {
  Timing timing{};
  auto start = Clock::now();
  headscope::gui::MainWindow window;
  window.resize(1280, 800);
  window.show();
  window.show_view("attention");
  window.open_files({path});
  window.workspace().select({0, 0, 1, 2});
  wait_idle(window);
  auto* view = static_cast<headscope::gui::AttentionView*>(window.view("attention"));
  view->grab();
  timing.first_picture_ms = ms_since(start);
  const int64_t at = tokens * 7 / 10;
  start = Clock::now();
  view->canvas()->show_positions({at, at + 256, at - 128, at + 128});
  wait_idle(window);  // includes the 120 ms the view waits for a zoom to settle
  view->grab();
  timing.zoom_step_ms = ms_since(start);
  if (!view->canvas()->detail()) {
    throw std::runtime_error("no refinement after the zoom: " +
                             view->detail_message().toStdString());
  }
  start = Clock::now();
  view->pick(at + 100, at + 99);
  wait_idle(window);
  view->grab();
  timing.pick_ms = ms_since(start);
  return timing;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"explorer_bench: the explorer's time to first picture and zoom step (JSON)"};
  std::vector<int64_t> lengths = {32768, 131072};
  std::vector<int64_t> pattern_lengths = {4096, 8192};
  std::string dir = std::filesystem::temp_directory_path().string();
  int repeats = 3;
  bool keep = false;
  app.add_option("--tokens", lengths, "Run lengths")
      ->delimiter(',')
      ->check(CLI::Range(1024, 1 << 22));
  app.add_option("--pattern-tokens", pattern_lengths, "Pattern-only run lengths")
      ->delimiter(',')
      ->check(CLI::Range(1024, 1 << 16));
  app.add_option("--dir", dir, "Where the synthetic recordings are written")
      ->check(CLI::ExistingDirectory);
  app.add_option("--repeats", repeats, "Timed repetitions (the median is printed)")
      ->check(CLI::Range(1, 100));
  app.add_flag("--keep", keep, "Keep the recordings (explorer_bench_<tokens>.h5 in --dir)");
  CLI11_PARSE(app, argc, argv);
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication qt(argc, argv);
  try {
    std::cout << "{\"layers\": " << kLayers << ", \"heads\": " << kHeads
              << ", \"block_size\": " << kBlock << ", \"topk\": " << kTopK << ", \"runs\": [";
    for (size_t i = 0; i < lengths.size(); ++i) {
      const int64_t tokens = lengths[i];
      const std::string path = dir + "/explorer_bench_" + std::to_string(tokens) + ".h5";
      auto start = Clock::now();
      write_recording(path, tokens);
      const double write_ms = ms_since(start);
      std::vector<double> first, zoom, pick;
      for (int r = 0; r < repeats; ++r) {
        const Timing t = measure(path, tokens);
        first.push_back(t.first_picture_ms);
        zoom.push_back(t.zoom_step_ms);
        pick.push_back(t.pick_ms);
      }
      std::printf(
          "%s\n  {\"tokens\": %lld, \"file_mb\": %.1f, \"write_ms\": %.0f, "
          "\"first_picture_ms\": %.0f, \"zoom_step_ms\": %.0f, \"pick_query_ms\": %.0f}",
          i ? "," : "", static_cast<long long>(tokens),
          static_cast<double>(std::filesystem::file_size(path)) / 1e6, write_ms, median(first),
          median(zoom), median(pick));
      std::fflush(stdout);
      if (!keep) std::filesystem::remove(path);
    }
    // The overview of a pattern-only run: read_attention_map as the attention view calls it.
    std::cout << "\n], \"pattern_runs\": [";
    for (size_t i = 0; i < pattern_lengths.size(); ++i) {
      const int64_t tokens = pattern_lengths[i];
      const std::string path = dir + "/explorer_bench_pattern_" + std::to_string(tokens) + ".h5";
      auto start = Clock::now();
      write_pattern_recording(path, tokens);
      const double write_ms = ms_since(start);
      std::vector<double> overview;
      int64_t blocks = 0;
      for (int r = 0; r < repeats; ++r) {
        start = Clock::now();
        const auto file = headscope::gui::OpenFile::open(path);
        const headscope::gui::AttentionMap map =
            headscope::gui::read_attention_map(*file, {0, 1, 2});
        overview.push_back(ms_since(start));
        blocks = map.rows;
      }
      std::printf(
          "%s\n  {\"tokens\": %lld, \"file_mb\": %.1f, \"write_ms\": %.0f, \"blocks\": %lld, "
          "\"overview_ms\": %.0f}",
          i ? "," : "", static_cast<long long>(tokens),
          static_cast<double>(std::filesystem::file_size(path)) / 1e6, write_ms,
          static_cast<long long>(blocks), median(overview));
      std::fflush(stdout);
      if (!keep) std::filesystem::remove(path);
    }
    std::cout << "\n]}\n";
  } catch (const std::exception& e) {
    std::cerr << "explorer_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
