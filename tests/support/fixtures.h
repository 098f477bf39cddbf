// Paths of test fixtures and small helpers shared by the suites.
#pragma once

#include <string>
#include <vector>

namespace headscope::test {

inline std::string fixture(const std::string& relative) {
  return std::string(HEADSCOPE_FIXTURES) + "/" + relative;
}

// Every family's fixture in tests/fixtures/hf-tiny (reference outputs of transformers): the
// suites that run once per family (parity, statistics recording, memory estimates, random
// weights) take this list, so a new family is one entry here.
inline const std::vector<std::string> kFixtureFamilies = {"gpt2",  "gpt_neox", "llama",
                                                          "qwen2", "qwen3",    "mistral"};

}  // namespace headscope::test
