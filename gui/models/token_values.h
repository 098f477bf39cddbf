// What the token view colours the run's text by, for the selected head: the attention one query
// gives every key (its row, read_query_row), or a per-query attention statistic (entropy,
// sink_mass, local_mass, max_prob of that head at every position). One value per token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/models/attention_map.h"
#include "gui/models/open_file.h"

namespace headscope::gui {

struct TokenRequest {
  AttentionRequest head;  // run, layer, head
  // Empty: the attention row of `query`; else an attention statistic's name (kStatEntropy, ...).
  std::string statistic;
  int64_t query = -1;  // -1: the run's last token, where a model answers
};

struct TokenValues {
  TokenRequest request;  // with the query resolved
  std::string source;    // the dataset read
  std::vector<std::string> text;
  std::vector<float> values;  // one per token
};

// The statistics the token view offers, in its combo box's order.
const std::vector<std::string>& token_statistics();

// Takes hdf5_lock(). InvalidInput naming the file, run and dataset when the run lacks it.
TokenValues read_token_values(const OpenFile& file, const TokenRequest& request);

}  // namespace headscope::gui
