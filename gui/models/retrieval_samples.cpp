#include "gui/models/retrieval_samples.h"

#include "core/base/error.h"
#include "gui/models/hdf5_lock.h"
#include "gui/models/number_array.h"

namespace headscope::gui {
namespace {

std::string retrieval_dataset_path(const char* name) {
  return std::string(kRetrievalGroup) + "/" + name;
}

// A [S] dataset of the analysis.
std::vector<double> read_per_sample(const OpenFile& file, const char* name, int64_t samples) {
  NumberArray array = read_number_array(file, retrieval_dataset_path(name));
  if (array.shape != std::vector<int64_t>{samples}) {
    throw InvalidInput(file.path() + ": " + retrieval_dataset_path(name) + ": expected [" +
                       std::to_string(samples) + "] (one value per sample)");
  }
  return std::move(array.values);
}

}  // namespace

bool has_retrieval_samples(const OpenFile& file) {
  auto lock = hdf5_lock();
  return has_path(file, retrieval_dataset_path("per_sample")) &&
         has_path(file, retrieval_dataset_path("score"));
}

RetrievalSamples read_retrieval_samples(const OpenFile& file) {
  auto lock = hdf5_lock();
  RetrievalSamples out;
  NumberArray score = read_number_array(file, retrieval_dataset_path("score"));
  NumberArray per_sample = read_number_array(file, retrieval_dataset_path("per_sample"));
  if (score.shape.size() != 2 || per_sample.shape.size() != 3 ||
      per_sample.shape[1] != score.shape[0] || per_sample.shape[2] != score.shape[1]) {
    throw InvalidInput(file.path() + ": " + retrieval_dataset_path("per_sample") +
                       ": expected [sample, layer, head] with score's [layer, head]");
  }
  out.score.quantity.label = "retrieval_heads/score";
  out.score.quantity.path = retrieval_dataset_path("score");
  out.score.layers = score.shape[0];
  out.score.heads = score.shape[1];
  out.score.values = std::move(score.values);
  out.samples = per_sample.shape[0];
  out.per_sample = std::move(per_sample.values);
  out.length = read_per_sample(file, "length", out.samples);
  out.depth = read_per_sample(file, "depth", out.samples);
  out.needle = read_per_sample(file, "needle", out.samples);
  out.accepted = read_per_sample(file, "accepted", out.samples);
  out.rouge = read_per_sample(file, "rouge", out.samples);
  return out;
}

void RetrievalSampleModel::set_samples(std::shared_ptr<const RetrievalSamples> samples,
                                       int64_t layer, int64_t head) {
  beginResetModel();
  samples_ = std::move(samples);
  layer_ = layer;
  head_ = head;
  if (samples_ &&
      (layer < 0 || layer >= samples_->score.layers || head < 0 || head >= samples_->score.heads)) {
    samples_ = nullptr;
  }
  endResetModel();
}

int RetrievalSampleModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !samples_ ? 0 : static_cast<int>(samples_->samples);
}

int RetrievalSampleModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant RetrievalSampleModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || role != Qt::DisplayRole) return {};
  const auto s = static_cast<size_t>(index.row());
  switch (index.column()) {
    case kSample:
      return index.row();
    case kLength:
      return static_cast<qlonglong>(samples_->length[s]);
    case kDepth:
      return samples_->depth[s];
    case kNeedle:
      return static_cast<qlonglong>(samples_->needle[s]);
    case kAccepted:
      return samples_->accepted[s] != 0 ? tr("yes") : tr("no");
    case kRouge:
      return samples_->rouge[s];
    case kScore:
      return samples_->sample_score(index.row(), layer_, head_);
    default:
      return {};
  }
}

QVariant RetrievalSampleModel::headerData(int section, Qt::Orientation orientation,
                                          int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kSample:
      return tr("sample");
    case kLength:
      return tr("length");
    case kDepth:
      return tr("depth");
    case kNeedle:
      return tr("needle");
    case kAccepted:
      return tr("accepted");
    case kRouge:
      return tr("ROUGE-1");
    case kScore:
      return tr("score of %1.%2").arg(layer_).arg(head_);
    default:
      return {};
  }
}

}  // namespace headscope::gui
