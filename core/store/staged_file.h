// Output files that never destroy what is already there: a new or replacing file is written
// under a temporary name beside its target and moved into place only when it is ready, and a
// file another process has open is never touched.
#pragma once

#include <string>

namespace headscope {

// IoError "cannot write PATH: directory DIR does not exist" when PATH's directory is missing.
void check_output_directory(const std::string& path);

// IoError "PATH: another process has it open ..." when another process holds HDF5's lock on
// PATH (a recorder appending to it, h5py reading it): replacing or truncating it would lose
// what that process writes or break what it reads. Silent when PATH does not exist, and when
// HDF5_USE_FILE_LOCKING=FALSE turns HDF5's locks off (no lock can then be seen).
void check_not_open_elsewhere(const std::string& path);

// Where a file for `target` is written before it is moved into place: TARGET.partial-PID, in
// the target's directory (a rename never crosses file systems). One left behind by a killed
// command is inert: nothing reads it, a later command uses another name, deleting it is safe.
std::string staging_path(const std::string& target);

// A file written at path() and moved to its target by publish(). Destroyed unpublished (an
// exception, a failed check), it deletes the temporary; so does Ctrl-C (SIGINT, SIGTERM or
// SIGHUP, where the process has not set its own handler), unless keep_if_interrupted() said the
// temporary holds something worth keeping. A process killed otherwise leaves it behind.
class StagedFile {
 public:
  enum class Target {
    kNew,      // the target must not exist; publishing never overwrites one made meanwhile
    kReplace,  // an existing target is replaced, unless another process has it open
  };

  // Checks the target's directory (check_output_directory), that a kNew target does not exist
  // (InvalidInput "PATH exists") and that a kReplace target is not open elsewhere; removes a
  // leftover temporary of the same name (this process id, so from a dead process).
  StagedFile(std::string target, Target kind);
  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&&) = delete;
  ~StagedFile();

  const std::string& path() const { return path_; }
  const std::string& target() const { return target_; }
  Target kind() const { return kind_; }
  bool published() const { return published_; }

  // From now on an interrupting signal leaves the temporary (a replacement's completed runs).
  void keep_if_interrupted();

  // Moves path() to target() atomically: readers see the old file or the new one, never a
  // part. kReplace holds the old file's lock across the rename, so a process opening it then
  // waits for nothing and loses nothing. IoError when the target appeared meanwhile (kNew) or
  // another process has it open (kReplace); the temporary is then kept, and the message names
  // it, so finished output is never lost.
  void publish();

 private:
  std::string target_;
  std::string path_;
  Target kind_;
  bool published_ = false;
  bool keep_ = false;  // publishing failed: the message told the user where the file is
  int signal_slot_ = -1;  // where the signal handler finds path_ to delete it, or -1
};

}  // namespace headscope
