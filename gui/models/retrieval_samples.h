// The retrieval-heads analysis of a file (/analyses/retrieval_heads, docs/RETRIEVAL.md) as the
// retrieval view shows it: every head's score and every sample's grid point, acceptance and
// per-head score. Read whole: S x L x H numbers (thousands of samples of a 32 x 32 model are a
// few MB). The per-sample table of one head is a Qt item model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <QtCore/QAbstractTableModel>

#include "gui/models/head_values.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

inline constexpr char kRetrievalGroup[] = "/analyses/retrieval_heads";

struct RetrievalSamples {
  HeadValues score;                // [layer, head], label "retrieval_heads/score"
  int64_t samples = 0;             // S
  std::vector<double> per_sample;  // [S, L, H]
  std::vector<double> length, depth, needle, accepted, rouge;  // [S] each

  double sample_score(int64_t sample, int64_t layer, int64_t head) const {
    return per_sample[static_cast<size_t>((sample * score.layers + layer) * score.heads + head)];
  }
};

// Metadata only; takes hdf5_lock().
bool has_retrieval_samples(const OpenFile& file);
// Takes hdf5_lock(). IoError or InvalidInput naming the file and dataset when one is missing or
// of another shape than docs/RETRIEVAL.md gives.
RetrievalSamples read_retrieval_samples(const OpenFile& file);

// One row per sample: its grid point, acceptance, ROUGE-1 recall and the chosen head's score.
// Numbers are returned as numbers, so a QSortFilterProxyModel sorts them as such.
class RetrievalSampleModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kSample, kLength, kDepth, kNeedle, kAccepted, kRouge, kScore, kColumnCount };

  explicit RetrievalSampleModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

  // Null clears the table.
  void set_samples(std::shared_ptr<const RetrievalSamples> samples, int64_t layer, int64_t head);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const RetrievalSamples> samples_;
  int64_t layer_ = 0, head_ = 0;
};

}  // namespace headscope::gui
