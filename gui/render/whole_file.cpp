#include "gui/render/whole_file.h"

#include <filesystem>

#include "core/base/error.h"

namespace headscope {

void write_whole_file(const std::string& path, const std::string& what,
                      const std::function<bool(const std::string& partial)>& write) {
  const std::string partial = path + ".partial";
  std::error_code error;
  if (write(partial))
    std::filesystem::rename(partial, path, error);
  else
    error = std::make_error_code(std::errc::io_error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw IoError(path + ": could not write the " + what + " (" + error.message() + ")");
  }
}

}  // namespace headscope
