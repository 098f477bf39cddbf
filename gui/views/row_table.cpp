#include "gui/views/row_table.h"

#include <QtWidgets/QHeaderView>

namespace headscope::gui {

QStandardItem* number_item(double value) {
  auto* item = new QStandardItem;
  item->setData(value, Qt::DisplayRole);
  return item;
}

QTableView* make_row_table(QAbstractItemModel* model, QWidget* parent) {
  auto* table = new QTableView(parent);
  table->setModel(model);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setSelectionMode(QAbstractItemView::SingleSelection);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->verticalHeader()->hide();
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table->horizontalHeader()->setStretchLastSection(true);
  return table;
}

QTableView* make_sorted_row_table(QAbstractItemModel* model, int column, QWidget* parent) {
  QTableView* table = make_row_table(model, parent);
  table->setSortingEnabled(true);
  table->sortByColumn(column, Qt::DescendingOrder);
  return table;
}

}  // namespace headscope::gui
