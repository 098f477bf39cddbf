// The rank table's model under QAbstractItemModelTester, and its sort order through the proxy
// the head grid uses: values high to low, heads without a value last.
#include <cmath>
#include <memory>

#include <gtest/gtest.h>
#include <QtCore/QSortFilterProxyModel>
#include <QtTest/QAbstractItemModelTester>

#include "gui/models/head_rank_model.h"

namespace headscope::gui {
namespace {

std::shared_ptr<const HeadValues> values(std::vector<double> v, int64_t heads) {
  auto out = std::make_shared<HeadValues>();
  out->quantity.label = "test";
  out->quantity.unit = "nats";
  out->heads = heads;
  out->layers = static_cast<int64_t>(v.size()) / heads;
  out->values = std::move(v);
  return out;
}

TEST(HeadRankModel, PassesTheModelTesterThroughResets) {
  HeadRankModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.set_values(values({0.5, NAN, 2.0, -1.0, 0.0, 3.0}, 3));
  EXPECT_EQ(model.rowCount(), 6);
  EXPECT_EQ(model.headerData(HeadRankModel::kValue, Qt::Horizontal).toString(), "Value (nats)");
  model.set_values(values({1.0, 2.0}, 1));
  EXPECT_EQ(model.rowCount(), 2);
  model.set_values(nullptr);
  EXPECT_EQ(model.rowCount(), 0);
}

TEST(HeadRankModel, SortsHighToLowWithMissingValuesLast) {
  HeadRankModel model;
  QSortFilterProxyModel proxy;
  proxy.setSourceModel(&model);
  proxy.setSortRole(HeadRankModel::kSortRole);
  QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.set_values(values({0.5, NAN, 2.0, -1.0, 0.0, 3.0}, 3));
  proxy.sort(HeadRankModel::kValue, Qt::DescendingOrder);
  const std::vector<QString> expected = {"3", "2", "0.5", "0", "-1", "-"};
  for (int row = 0; row < 6; ++row) {
    EXPECT_EQ(proxy.index(row, HeadRankModel::kValue).data().toString(), expected[row]) << row;
  }
  // The top row is layer 1, head 2 (3 heads per layer: flat index 5).
  EXPECT_EQ(proxy.index(0, HeadRankModel::kLayer).data().toInt(), 1);
  EXPECT_EQ(proxy.index(0, HeadRankModel::kHead).data().toInt(), 2);
}

}  // namespace
}  // namespace headscope::gui
