#include "gui/models/token_values.h"

#include "core/base/error.h"
#include "core/store/recording_schema.h"
#include "gui/models/attention_detail.h"
#include "gui/models/hdf5_lock.h"

namespace headscope::gui {

const std::vector<std::string>& token_statistics() {
  static const std::vector<std::string> kStatistics = {kStatEntropy, kStatSinkMass, kStatLocalMass,
                                                       kStatMaxProb};
  return kStatistics;
}

TokenValues read_token_values(const OpenFile& file, const TokenRequest& request) {
  auto lock = hdf5_lock();
  const RecordingReader& reader = file.reader();
  TokenValues out;
  out.request = request;
  const AttentionRequest& head = request.head;
  if (head.run < 0 || head.run >= file.run_count()) {
    throw InvalidInput(file.path() + ": no run " + std::to_string(head.run));
  }
  if (out.request.query < 0 && reader.has(head.run, kTokens)) {
    out.request.query = reader.shape(head.run, kTokens)[0] - 1;
  }
  if (request.statistic.empty()) {
    QueryRow row = read_query_row(file, head, out.request.query);
    out.source = std::move(row.source);
    out.values = std::move(row.values);
  }
  if (reader.has(head.run, kTokenText)) out.text = reader.read_token_text(head.run);
  if (!request.statistic.empty()) {
    const std::string path = attention_stats_path(request.statistic);
    if (!reader.has(head.run, path)) {
      throw InvalidInput(file.path() + ": run " + std::to_string(head.run) +
                         " has no attention statistic " + path);
    }
    const std::vector<int64_t> shape = reader.shape(head.run, path);
    out.source = path;
    out.values =
        reader.read_f32_slice(head.run, path, {head.layer, head.head, 0}, {1, 1, shape.at(2)});
  }
  // Runs without token_text still show their positions.
  if (out.text.size() < out.values.size()) {
    for (size_t i = out.text.size(); i < out.values.size(); ++i)
      out.text.push_back(std::to_string(i));
  }
  return out;
}

}  // namespace headscope::gui
