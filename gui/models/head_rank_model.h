// The rank table beside the head grid: one row per head (layer, head, value) of the shown
// quantity. Sort and filter through a QSortFilterProxyModel on kSortRole, where heads without a
// value (NaN) sort below every number.
#pragma once

#include <memory>

#include <QtCore/QAbstractTableModel>

#include "gui/models/head_values.h"

namespace headscope::gui {

class HeadRankModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kLayer, kHead, kValue, kColumnCount };
  static constexpr int kSortRole = Qt::UserRole + 1;

  explicit HeadRankModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  // Replaces every row; null clears the table.
  void set_values(std::shared_ptr<const HeadValues> values);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const HeadValues> values_;
};

}  // namespace headscope::gui
