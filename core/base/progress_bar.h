// A one-line progress bar on stderr for long recordings. Silent when stderr is not a terminal
// (logs, CI, pipes) or when the user asked for quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace headscope {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool quiet);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Advances by `steps` and redraws at most every 100 ms; `detail` follows the counter.
  void advance(int64_t steps = 1, const std::string& detail = "");
  bool enabled() const { return enabled_; }

 private:
  void draw(const std::string& detail);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace headscope
