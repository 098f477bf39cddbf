// Haystack text for the needle task: varied sentences from a small grammar over the zoo's filler
// words (creatures, things, places, times; never names or digits, so a needle's key and value
// occur nowhere else).
#pragma once

#include <random>
#include <string>
#include <vector>

namespace headscope {

// One sentence ending with "."; sometimes followed by "\n" as a paragraph break.
std::vector<std::string> filler_sentence(std::mt19937_64& rng);

}  // namespace headscope
