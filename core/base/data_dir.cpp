#include "core/base/data_dir.h"

#include <cstdlib>
#include <system_error>

#include "core/base/error.h"

namespace headscope {
namespace {

constexpr char kOverride[] = "HEADSCOPE_DATA_DIR";

}  // namespace

std::filesystem::path data_dir() {
  if (const char* dir = std::getenv(kOverride); dir != nullptr && *dir != '\0') {
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error)) {
      throw IoError(std::string(kOverride) + "=" + dir + " is not a directory");
    }
    return dir;
  }
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    throw IoError("cannot find the running executable (/proc/self/exe): " + error.message());
  const std::filesystem::path dir = exe.parent_path().parent_path() / "share" / "headscope";
  if (!std::filesystem::is_directory(dir, error)) {
    throw IoError("headscope's data (zoo models, recipes) is not at " + dir.string() +
                  ", beside the executable; reinstall, or set " + kOverride);
  }
  return dir;
}

std::filesystem::path data_path(const std::string& relative, const std::string& what) {
  const std::filesystem::path path = data_dir() / relative;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    throw IoError(what + " is missing: " + path.string() + " does not exist");
  }
  return path;
}

}  // namespace headscope
