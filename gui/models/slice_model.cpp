#include "gui/models/slice_model.h"

namespace headscope::gui {

void SliceModel::set_entries(std::vector<SliceEntry> entries,
                             const std::vector<std::string>& token_text) {
  beginResetModel();
  entries_ = std::move(entries);
  tokens_.clear();
  for (const SliceEntry& entry : entries_) {
    const auto i = static_cast<size_t>(entry.position);
    tokens_.push_back(i < token_text.size() ? QString::fromStdString(token_text[i]) : QString());
  }
  endResetModel();
}

int SliceModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}

int SliceModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant SliceModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || role != Qt::DisplayRole) return {};
  const SliceEntry& entry = entries_[static_cast<size_t>(index.row())];
  switch (index.column()) {
    case kPosition:
      return QVariant::fromValue<qlonglong>(entry.position);
    case kToken:
      return tokens_[static_cast<size_t>(index.row())];
    case kValue:
      return QString::number(entry.value, 'g', 4);
    default:
      return {};
  }
}

QVariant SliceModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kPosition:
      return tr("position");
    case kToken:
      return tr("token");
    case kValue:
      return tr("prob");
    default:
      return {};
  }
}

}  // namespace headscope::gui
