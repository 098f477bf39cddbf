#include "core/base/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace headscope {

ProgressBar::ProgressBar(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      enabled_(!quiet && isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && done_ > 0) std::fputc('\n', stderr);
}

void ProgressBar::advance(int64_t steps, const std::string& detail) {
  done_ = std::min(total_, done_ + steps);
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(detail);
}

void ProgressBar::draw(const std::string& detail) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done_ / total_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "\r%s [%s%s] %lld/%lld %s %.1fs\033[K", label_.c_str(),
               std::string(static_cast<size_t>(filled), '#').c_str(),
               std::string(static_cast<size_t>(kWidth - filled), ' ').c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), detail.c_str(),
               seconds);
  std::fflush(stderr);
}

}  // namespace headscope
