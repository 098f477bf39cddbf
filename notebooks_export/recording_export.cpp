#include "notebooks_export/recording_export.h"

#include <filesystem>
#include <fstream>

#include "core/base/error.h"
#include "core/store/recording_reader.h"
#include "notebooks_export/example_notebook.h"
#include "notebooks_export/export_files.h"
#include "notebooks_export/export_readme.h"
#include "notebooks_export/recording_contents.h"

namespace headscope {
namespace {

namespace fs = std::filesystem;

// Returns whether the directory was created here, so that a failed export can remove it again.
bool prepare_out_dir(const fs::path& dir, bool force) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (status.type() == fs::file_type::not_found) {
    fs::create_directories(dir, error);
    if (error) {
      throw IoError(dir.string() + ": cannot create directory (" + error.message() + ")");
    }
    return true;
  }
  if (error) throw IoError(dir.string() + ": cannot read (" + error.message() + ")");
  if (!fs::is_directory(status)) {
    throw InvalidInput(dir.string() + " exists and is not a directory");
  }
  const bool empty = fs::is_empty(dir, error);
  if (error) throw IoError(dir.string() + ": cannot list (" + error.message() + ")");
  if (!empty && !force) {
    throw InvalidInput(dir.string() + " is not empty; pass --force to write " + kExportRecording +
                       ", " + kExportReadme + " and " + kExportNotebook + " into it");
  }
  return false;
}

// The export's files under temporary names in the output directory. Until commit() renames
// them into place, destruction removes them, and the directory too when this export made it.
class StagedExport {
 public:
  StagedExport(fs::path dir, bool created_dir) : dir_(std::move(dir)), created_dir_(created_dir) {}
  StagedExport(const StagedExport&) = delete;
  StagedExport& operator=(const StagedExport&) = delete;

  ~StagedExport() {
    if (committed_) return;
    std::error_code ignored;  // nothing better to do with a failed clean-up while unwinding
    for (const std::string& name : names_) fs::remove(staged(name), ignored);
    if (created_dir_) fs::remove(dir_, ignored);
  }

  // The temporary path the file `name` is written to.
  fs::path add(const std::string& name) {
    names_.push_back(name);
    return staged(name);
  }

  std::vector<std::string> commit() {
    std::vector<std::string> paths;
    for (const std::string& name : names_) {
      std::error_code error;
      fs::rename(staged(name), dir_ / name, error);
      if (error) {
        throw IoError((dir_ / name).string() + ": cannot move into place (" + error.message() +
                      ")");
      }
      paths.push_back((dir_ / name).string());
    }
    committed_ = true;
    return paths;
  }

 private:
  fs::path staged(const std::string& name) const { return dir_ / ("." + name + ".partial"); }

  fs::path dir_;
  bool created_dir_;
  std::vector<std::string> names_;
  bool committed_ = false;
};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw IoError(path.string() + ": cannot write");
}

}  // namespace

ExportResult export_recording(const std::string& recording, const ExportOptions& options) {
  if (options.out_dir.empty()) throw InvalidInput("export: no output directory given");
  // Everything that can reject the input happens before the first byte is written.
  const RecordingContents contents = survey_recording(RecordingReader::open(recording), recording);
  const fs::path dir = options.out_dir;
  StagedExport staged(dir, prepare_out_dir(dir, options.force));

  std::error_code error;
  fs::copy_file(recording, staged.add(kExportRecording), fs::copy_options::overwrite_existing,
                error);
  if (error) {
    throw IoError(recording + ": cannot copy to " + dir.string() + " (" + error.message() + ")");
  }
  write_text(staged.add(kExportReadme), export_readme(contents));
  // Indent 1 is what Jupyter writes; non-ASCII stays UTF-8.
  write_text(
      staged.add(kExportNotebook),
      example_notebook(contents).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) +
          "\n");
  return {dir.string(), staged.commit(), contents.run_count};
}

}  // namespace headscope
