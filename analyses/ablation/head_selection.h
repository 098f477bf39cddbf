// Which heads to ablate: a list given by the user, the top K of a per-head score (retrieval
// score, importance), or K drawn at random, optionally outside the top N.
//
//   std::vector<HeadRef> heads = parse_heads("3.1,5.7", config, "--heads");
//   std::vector<HeadRef> top = top_heads(scores, 4);
//   std::vector<HeadRef> control = random_heads(config, 4, /*seed=*/0, top_heads(scores, 8));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/checkpoint/model_config.h"
#include "hooks/head_interventions.h"

namespace headscope {

// "L.H,L.H,...", each head of the model at most once; InvalidInput naming `argument` on bad
// syntax, a head out of range or a repeated head.
std::vector<HeadRef> parse_heads(const std::string& text, const ModelConfig& config,
                                 const std::string& argument);

// "L.H" for each head, comma-separated.
std::string format_heads(const std::vector<HeadRef>& heads);

// The k heads with the highest score ([n_layers, n_heads], any floating dtype), highest first;
// ties go to the lower (layer, head). NaN scores rank last. InvalidInput when k is negative or
// exceeds the number of heads.
std::vector<HeadRef> top_heads(const torch::Tensor& scores, int64_t k);

// k distinct heads drawn uniformly among those not in `exclude`, in draw order; the same seed
// gives the same heads on every platform. InvalidInput when fewer than k heads remain.
std::vector<HeadRef> random_heads(const ModelConfig& config, int64_t k, uint64_t seed,
                                  const std::vector<HeadRef>& exclude = {});

}  // namespace headscope
