#include "core/tokenizer/pre_tokenizer.h"

namespace headscope {

void PreTokenizer::add_prefix_space() {
  steps_.push_back(nullptr);
}

void PreTokenizer::add_split(std::unique_ptr<RegexSplit> split) {
  steps_.push_back(std::move(split));
}

void PreTokenizer::split(std::string_view text,
                         const std::function<void(std::string_view)>& emit) const {
  if (!text.empty()) run(0, text, emit);
}

// Depth-first over the steps, so pieces are views into `text` except where a space was prepended.
void PreTokenizer::run(size_t step, std::string_view piece,
                       const std::function<void(std::string_view)>& emit) const {
  if (step == steps_.size()) {
    emit(piece);
    return;
  }
  const RegexSplit* split = steps_[step].get();
  if (!split) {
    if (piece.front() == ' ') {
      run(step + 1, piece, emit);
    } else {
      const std::string spaced = " " + std::string(piece);
      run(step + 1, spaced, emit);
    }
    return;
  }
  std::vector<std::string_view> parts;
  split->split(piece, parts);
  for (std::string_view part : parts) run(step + 1, part, emit);
}

}  // namespace headscope
