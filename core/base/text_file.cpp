#include "core/base/text_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/base/error.h"

namespace headscope {
namespace {

std::string mebibytes(int64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

std::string read_text_file(const std::string& path, const std::string& label, int64_t max_bytes) {
  const std::string prefix = label.empty() ? "" : label + ": ";
  const std::string where = prefix + path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw IoError(prefix + "cannot open " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) throw IoError(where + " is a directory, not a file");
  // A device or a pipe may never end; only regular files have a size to check up front.
  if (!S_ISREG(st.st_mode)) {
    throw IoError(where + " is not a regular file (a device, FIFO or socket); give a file");
  }
  const std::string too_large = where + " is larger than " + mebibytes(max_bytes) +
                                ", the most headscope reads from a text input";
  if (st.st_size > max_bytes) throw IoError(too_large);
  std::ifstream file(path, std::ios::binary);
  if (!file) throw IoError(prefix + "cannot open " + path + ": " + std::strerror(errno));
  // The file may have grown since stat: stop reading once past the limit.
  std::string text;
  text.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(file.gcount()));
    if (static_cast<int64_t>(text.size()) > max_bytes) throw IoError(too_large);
  }
  if (file.bad()) throw IoError(prefix + "cannot read " + path + ": " + std::strerror(errno));
  return text;
}

void write_text_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw IoError(path + ": cannot write");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw IoError(path + ": cannot rename the temporary file into place");
  }
}

}  // namespace headscope
