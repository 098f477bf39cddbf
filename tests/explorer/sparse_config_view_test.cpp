// The sparse-config view: the configs of a sparse-eval analysis with their sparse-head fraction,
// kept fraction and accuracy per length as written, under QAbstractItemModelTester; a config's
// per-head kind and parameters as a grid equal to the file's; a click on the grid selects a
// head; the chosen config exported as sparse_config.json reads back as the file's heads, and the
// formats a sparse-eval config cannot be written in are refused with the reason, writing nothing;
// a folder sparse-config wrote (headscope, duo) is shown and exported as its files; missing
// analyses, datasets or folders give a message.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <QtCore/QCoreApplication>
#include <QtGui/QMouseEvent>
#include <QtGui/QStandardItemModel>
#include <QtTest/QAbstractItemModelTester>
#include <QtWidgets/QMenu>

#include "core/base/text_file.h"
#include "core/checkpoint/sparse_config_files.h"
#include "core/checkpoint/sparse_model_config.h"
#include "gui/app/main_window.h"
#include "gui/models/sparse_eval_configs.h"
#include "gui/views/head_grid_canvas.h"
#include "gui/views/sparse_config_view.h"
#include "tests/explorer/analysis_files.h"
#include "tests/explorer/window_test.h"
#include "tests/explorer/window_wait.h"

namespace headscope::gui {
namespace {

using test::kHeads;
using test::kLayers;

class SparseConfigViewTest : public test::WindowTest {
 protected:
  SparseConfigView& open(const std::string& file) {
    return open_view<SparseConfigView>({file}, "sparse", HeadSelection{0, 0, 0, 0});
  }
};

TEST_F(SparseConfigViewTest, ConfigsAndTheirHeadsAreTheFiles) {
  test::write_sparse_eval(path("s.h5"));
  window_ = std::make_unique<MainWindow>();
  auto& view = *static_cast<SparseConfigView*>(window_->view("sparse"));
  QAbstractItemModelTester tester(view.config_model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  window_->resize(1200, 800);
  window_->show();
  ASSERT_TRUE(window_->open_files({path("s.h5")}).empty());
  window_->show_view("sparse");
  window_->workspace().select({0, 0, 1, 2});
  test::wait_idle(*window_);
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  EXPECT_TRUE(view.message().contains("0 full, 1 streaming, 2 block_sparse"))
      << view.message().toStdString();

  // One row per config: name, sparse heads, kept fraction and accuracy per length.
  QStandardItemModel& rows = *view.config_model();
  ASSERT_EQ(rows.rowCount(), 3);
  ASSERT_EQ(rows.columnCount(), 6);
  EXPECT_EQ(rows.headerData(2, Qt::Horizontal).toString(), "kept @256");
  EXPECT_EQ(rows.headerData(5, Qt::Horizontal).toString(), "accuracy @512");
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(rows.index(c, 0).data().toString().toStdString(), test::kSparseConfigs[c]);
    EXPECT_EQ(rows.index(c, 1).data().toDouble(), c == 0 ? 0.0 : 0.5);
    for (int n = 0; n < 2; ++n) {
      EXPECT_EQ(rows.index(c, 2 + n).data().toDouble(), test::sparse_kept(c, n));
      EXPECT_EQ(rows.index(c, 4 + n).data().toDouble(), test::sparse_accuracy(c, n));
    }
  }

  // The first sparse config is shown: its kinds, then each field of the block-sparse config.
  auto expect_field = [&view](int64_t config, SparseEvalConfigs::Field field) {
    ASSERT_NE(view.grid_values(), nullptr);
    const HeadValues& grid = *view.grid_values();
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) {
        const int32_t kind = test::sparse_kind(config, l, h);
        const double want[] = {static_cast<double>(kind), kind == 2 ? 32.0 * (1 << l) : 0.0,
                               kind == 2 ? 4.0 : 0.0, kind == 1 ? 4.0 : 0.0,
                               kind == 1 ? 64.0 + static_cast<double>(h) : 0.0};
        EXPECT_EQ(grid.at(l, h), want[field]) << config << " " << field << " " << l << "." << h;
      }
    }
  };
  expect_field(1, SparseEvalConfigs::kKind);
  view.choose_field(SparseEvalConfigs::kWindow);
  expect_field(1, SparseEvalConfigs::kWindow);
  ASSERT_TRUE(view.choose_config(2));
  for (int f = 0; f < SparseEvalConfigs::kFieldCount; ++f) {
    view.choose_field(static_cast<SparseEvalConfigs::Field>(f));
    expect_field(2, static_cast<SparseEvalConfigs::Field>(f));
  }
  EXPECT_FALSE(view.choose_config(3));
  EXPECT_EQ(view.grid()->tooltip_at(view.grid()->cell_centre({1, 0})), "layer 1, head 0: 0");

  const QStringList csv = view.csv().split('\n', Qt::SkipEmptyParts);
  ASSERT_EQ(csv.size(), kLayers * kHeads + 1);
  EXPECT_EQ(csv[0], "config,layer,head,kind,block size,top-k blocks,sink,window");
  EXPECT_EQ(csv[1], "\"random@50.0%#0\",0,0,2,32,4,0,0");
  EXPECT_EQ(csv[5], "\"random@50.0%#0\",1,1,2,64,4,0,0");

  // A click on a grid cell selects that head.
  HeadGridCanvas& grid = *view.grid();
  const QPoint centre = grid.cell_centre({1, 1});
  QMouseEvent press(QEvent::MouseButtonPress, centre, grid.mapToGlobal(centre), Qt::LeftButton,
                    Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&grid, &press);
  EXPECT_EQ(window_->workspace().selection(), (HeadSelection{0, 0, 1, 1}));
  EXPECT_GT(test::colours(view.grab().toImage()), 8u);
}

TEST_F(SparseConfigViewTest, ExportsTheChosenConfigInTheFormatsItFits) {
  test::write_sparse_eval(path("s.h5"));
  SparseConfigView& view = open(path("s.h5"));
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();

  // One menu entry per format sparse-config writes; MoA and MInference say why they are off.
  const QList<QAction*> actions = view.export_menu()->actions();
  ASSERT_EQ(actions.size(), static_cast<int>(kSparseFormats.size()));
  for (size_t i = 0; i < kSparseFormats.size(); ++i) {
    const SparseFormat format = kSparseFormats[i];
    EXPECT_EQ(actions[static_cast<int>(i)]->text(), sparse_format_name(format));
    const bool fits = format == SparseFormat::kHeadscope || format == SparseFormat::kDuo;
    EXPECT_EQ(actions[static_cast<int>(i)]->isEnabled(), fits) << sparse_format_name(format);
    EXPECT_EQ(actions[static_cast<int>(i)]->toolTip().contains("fitted to attention statistics"),
              !fits);
  }

  for (int config : {1, 2}) {
    ASSERT_TRUE(view.choose_config(config));
    const std::string dir = path("cfg" + std::to_string(config));
    ASSERT_TRUE(view.export_config(SparseFormat::kHeadscope, QString::fromStdString(dir)))
        << view.message().toStdString();
    EXPECT_TRUE(view.message().contains("sparse_config.json")) << view.message().toStdString();
    const SparseModelConfig back = read_sparse_config(dir + "/" + kSparseConfigFile);
    ASSERT_EQ(back.n_layers, kLayers);
    ASSERT_EQ(back.n_heads, kHeads);
    EXPECT_EQ(back.parameters["config"], test::kSparseConfigs[static_cast<size_t>(config)]);
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) {
        const SparseHeadConfig& head = back.heads[static_cast<size_t>(l)][static_cast<size_t>(h)];
        const int32_t kind = test::sparse_kind(config, l, h);
        EXPECT_EQ(static_cast<int32_t>(head.kind), kind) << l << "." << h;
        if (kind == 1) {
          EXPECT_EQ(head.sink, 4);
          EXPECT_EQ(head.window, 64 + h);
        } else if (kind == 2) {
          EXPECT_EQ(head.block_size, 32 * (1 << l));
          EXPECT_EQ(head.topk_blocks, 4);
        }
      }
    }
  }

  // DuoAttention has one window for every streaming head, and no block-sparse heads; MoA and
  // MInference are fitted to statistics. Each refusal names why and writes no folder.
  ASSERT_TRUE(view.choose_config(1));
  EXPECT_FALSE(view.export_config(SparseFormat::kDuo, QString::fromStdString(path("duo1"))));
  EXPECT_TRUE(view.message().contains("layer 0 head 2 streams with sink 4, window 66"))
      << view.message().toStdString();
  ASSERT_TRUE(view.choose_config(2));
  EXPECT_FALSE(view.export_config(SparseFormat::kDuo, QString::fromStdString(path("duo2"))));
  EXPECT_TRUE(view.message().contains("layer 0 head 0 is block-sparse"))
      << view.message().toStdString();
  EXPECT_FALSE(view.export_config(SparseFormat::kMoa, QString::fromStdString(path("moa"))));
  EXPECT_TRUE(view.message().contains("moa: fitted to attention statistics"))
      << view.message().toStdString();
  for (const char* refused : {"duo1", "duo2", "moa"}) {
    EXPECT_FALSE(std::filesystem::exists(path(refused))) << refused;
  }
}

// Each head's kind and field values as the view's grid shows them.
void expect_heads(SparseConfigView& view, const SparseModelConfig& config) {
  for (int f = 0; f < SparseEvalConfigs::kFieldCount; ++f) {
    const auto field = static_cast<SparseEvalConfigs::Field>(f);
    view.choose_field(field);
    ASSERT_NE(view.grid_values(), nullptr);
    for (int64_t l = 0; l < kLayers; ++l) {
      for (int64_t h = 0; h < kHeads; ++h) {
        const SparseHeadConfig& head = config.heads[static_cast<size_t>(l)][static_cast<size_t>(h)];
        const bool streaming = head.kind == SparseKind::kStreaming;
        const bool block = head.kind == SparseKind::kBlockSparse;
        const int64_t want[] = {static_cast<int64_t>(head.kind), block ? head.block_size : 0,
                                block ? head.topk_blocks : 0, streaming ? head.sink : 0,
                                streaming ? head.window : 0};
        EXPECT_EQ(view.grid_values()->at(l, h), static_cast<double>(want[f]))
            << sparse_field_name(field) << " " << l << "." << h;
      }
    }
  }
}

// DuoAttention's files for the 2 x 3 test model: layer 0's KV head 1 and layer 1's heads 0 and
// 1 stream with sink 4 and window 32.
void write_duo_folder(const std::string& dir) {
  DuoConfig duo;
  duo.gates = {{1, 0, 1}, {0, 0, 1}};
  duo.sink_size = 4;
  duo.recent_size = 32;
  std::filesystem::create_directories(dir);
  write_duo_config(dir, duo);
}

TEST_F(SparseConfigViewTest, ShowsAndExportsAFolderSparseConfigWrote) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  SparseConfigView& view = open(path("a.h5"));
  EXPECT_TRUE(view.message().contains("has no sparse-eval analysis"));

  // headscope's sparse_config.json.
  SparseModelConfig config = SparseModelConfig::dense(kLayers, kHeads);
  config.heads[0][1] = SparseHeadConfig::streaming(4, 64);
  config.heads[1][2] = SparseHeadConfig::block_sparse(32, 4);
  std::filesystem::create_directories(path("hs"));
  write_sparse_config(path("hs") + "/" + kSparseConfigFile, config);
  view.open_folder(QString::fromStdString(path("hs")));
  test::wait_idle(*window_);
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  EXPECT_EQ(view.shown()->names, std::vector<std::string>{"headscope"});
  EXPECT_EQ(view.shown()->kv_heads, kHeads);  // from the open recording's model
  EXPECT_TRUE(view.message().contains("the headscope config sparse-config wrote"))
      << view.message().toStdString();
  ASSERT_EQ(view.config_model()->rowCount(), 1);
  EXPECT_EQ(view.config_model()->columnCount(), 2);  // no lengths: nothing was run
  EXPECT_EQ(view.config_model()->index(0, 1).data().toDouble(), 2.0 / 6.0);
  expect_heads(view, config);
  ASSERT_TRUE(view.export_config(SparseFormat::kHeadscope, QString::fromStdString(path("hs2"))))
      << view.message().toStdString();
  const SparseModelConfig back = read_sparse_config(path("hs2") + "/" + kSparseConfigFile);
  EXPECT_EQ(back.parameters["input"], path("hs"));
  for (int64_t l = 0; l < kLayers; ++l) {
    for (int64_t h = 0; h < kHeads; ++h) {
      const auto& a = back.heads[static_cast<size_t>(l)][static_cast<size_t>(h)];
      const auto& b = config.heads[static_cast<size_t>(l)][static_cast<size_t>(h)];
      EXPECT_EQ(a.kind, b.kind);
      EXPECT_EQ(a.window, b.window);
      EXPECT_EQ(a.block_size, b.block_size);
    }
  }

  // DuoAttention's gates, expanded with the open model; exported again, the same gates file.
  write_duo_folder(path("duo"));
  view.open_folder(QString::fromStdString(path("duo")));
  test::wait_idle(*window_);
  ASSERT_NE(view.shown(), nullptr) << view.message().toStdString();
  SparseModelConfig gated = SparseModelConfig::dense(kLayers, kHeads);
  for (auto [l, h] : {std::pair{0, 1}, std::pair{1, 0}, std::pair{1, 1}}) {
    gated.heads[static_cast<size_t>(l)][static_cast<size_t>(h)] =
        SparseHeadConfig::streaming(4, 32);
  }
  expect_heads(view, gated);
  ASSERT_TRUE(view.export_config(SparseFormat::kDuo, QString::fromStdString(path("duo2"))))
      << view.message().toStdString();
  EXPECT_EQ(read_text_file(path("duo2") + "/" + kDuoGatesFile),
            read_text_file(path("duo") + "/" + kDuoGatesFile));

  // Folders the view does not show say why, and leave nothing shown.
  std::filesystem::create_directories(path("moa"));
  std::ofstream(path("moa") + "/" + kMoaFile) << "{}";
  view.open_folder(QString::fromStdString(path("moa")));
  test::wait_idle(*window_);
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("holds a moa config")) << view.message().toStdString();
  std::filesystem::create_directories(path("minference"));
  std::ofstream(path("minference") + "/" + kMInferenceFile) << "[]";
  view.open_folder(QString::fromStdString(path("minference")));
  test::wait_idle(*window_);
  EXPECT_TRUE(view.message().contains("holds a minference config")) << view.message().toStdString();
  std::filesystem::create_directories(path("empty"));
  view.open_folder(QString::fromStdString(path("empty")));
  test::wait_idle(*window_);
  EXPECT_TRUE(view.message().contains("holds no sparse config")) << view.message().toStdString();
  view.open_folder(QString::fromStdString(path("hs") + "/" + kSparseConfigFile));
  test::wait_idle(*window_);
  EXPECT_TRUE(view.message().contains("sparse_config.json: not a directory"))
      << view.message().toStdString();
  EXPECT_TRUE(view.csv().isEmpty());
}

TEST_F(SparseConfigViewTest, ADuoFolderNeedsAModel) {
  write_duo_folder(path("duo"));
  window_ = std::make_unique<MainWindow>();
  auto& view = *static_cast<SparseConfigView*>(window_->view("sparse"));
  view.open_folder(QString::fromStdString(path("duo")));
  test::wait_idle(*window_);
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("open a file of the model")) << view.message().toStdString();
}

TEST_F(SparseConfigViewTest, MissingAnalysisOrDatasetGivesAMessage) {
  test::write_recording(path("a.h5"), {test::RunContents{}});
  {
    SparseConfigView& view = open(path("a.h5"));
    EXPECT_TRUE(view.message().contains("has no sparse-eval analysis"))
        << view.message().toStdString();
    EXPECT_TRUE(view.csv().isEmpty());
  }
  test::write_sparse_eval(path("bad.h5"), false);
  SparseConfigView& view = open(path("bad.h5"));
  EXPECT_EQ(view.shown(), nullptr);
  EXPECT_TRUE(view.message().contains("/analyses/sparse_eval/kept_fraction"))
      << view.message().toStdString();
  EXPECT_TRUE(view.csv().isEmpty());
}

}  // namespace
}  // namespace headscope::gui
