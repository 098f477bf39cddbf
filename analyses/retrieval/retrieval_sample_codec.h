// Retrieval samples as bytes, for the ranks of a distributed scan to hand theirs to rank 0.
#pragma once

#include <string>
#include <vector>

#include "analyses/retrieval/retrieval_heads.h"

namespace headscope {

std::string encode_retrieval_samples(const std::vector<RetrievalSample>& samples);
// `what` names the payload in errors (IoError for a short or damaged one).
std::vector<RetrievalSample> decode_retrieval_samples(const std::string& bytes,
                                                      const std::string& what);

}  // namespace headscope
