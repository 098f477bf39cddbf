#include "kernels/cuda_architectures.h"

#include <cctype>

namespace headscope {
namespace {

// One entry of the list, e.g. "90a-real": compute capability `number` (10 major + minor), its
// suffix and which of machine code and PTX it embeds.
struct Entry {
  int number = 0;
  char suffix = 0;  // 0, 'a' or 'f'
  bool machine_code = true, ptx = true;
};

bool parse_entry(std::string_view text, Entry& e) {
  constexpr std::string_view kReal = "-real", kVirtual = "-virtual";
  if (text.size() > kReal.size() && text.substr(text.size() - kReal.size()) == kReal) {
    e.ptx = false;
    text.remove_suffix(kReal.size());
  } else if (text.size() > kVirtual.size() &&
             text.substr(text.size() - kVirtual.size()) == kVirtual) {
    e.machine_code = false;
    text.remove_suffix(kVirtual.size());
  }
  if (!text.empty() && (text.back() == 'a' || text.back() == 'f')) {
    e.suffix = text.back();
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 4) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    e.number = 10 * e.number + (c - '0');
  }
  return e.number >= 10;
}

bool entry_runs_on(const Entry& e, int major, int minor) {
  const int e_major = e.number / 10, e_minor = e.number % 10;
  if (e.suffix == 'a') return major == e_major && minor == e_minor;
  const bool same_major_later = major == e_major && minor >= e_minor;
  if (e.suffix == 'f') return same_major_later;
  return (e.machine_code && same_major_later) || (e.ptx && 10 * major + minor >= e.number);
}

}  // namespace

bool cuda_architectures_run_on(std::string_view architectures, int major, int minor) {
  while (!architectures.empty()) {
    const size_t end = architectures.find_first_of("; ");
    const std::string_view text = architectures.substr(0, end);
    Entry e;
    if (parse_entry(text, e) && entry_runs_on(e, major, minor)) return true;
    if (end == std::string_view::npos) break;
    architectures.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace headscope
