// Paths of test fixtures and small helpers shared by the suites.
#pragma once

#include <string>

namespace headscope::test {

inline std::string fixture(const std::string& relative) {
  return std::string(HEADSCOPE_FIXTURES) + "/" + relative;
}

}  // namespace headscope::test
