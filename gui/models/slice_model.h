// A table of one attention slice's largest entries beside the attention view: the keys a query
// reads most, or the queries that read a key most (position, token text, probability).
#pragma once

#include <string>
#include <vector>

#include <QtCore/QAbstractTableModel>

#include "gui/models/attention_detail.h"

namespace headscope::gui {

class SliceModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kPosition, kToken, kValue, kColumnCount };

  explicit SliceModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  // Replaces every row; `token_text` is the run's (empty when it has none).
  void set_entries(std::vector<SliceEntry> entries, const std::vector<std::string>& token_text);
  const std::vector<SliceEntry>& entries() const { return entries_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<SliceEntry> entries_;
  std::vector<QString> tokens_;  // one per entry
};

}  // namespace headscope::gui
