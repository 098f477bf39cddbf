#include "core/store/staged_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/base/error.h"

namespace headscope {
namespace {

// HDF5 reads the same variable; with locks off nobody takes them, so none can be seen.
bool hdf5_locks_on() {
  const char* setting = std::getenv("HDF5_USE_FILE_LOCKING");
  return setting == nullptr || (std::strcmp(setting, "FALSE") != 0 && std::strcmp(setting, "0"));
}

std::string open_elsewhere_message(const std::string& path) {
  return path +
         ": another process has it open (HDF5 file lock held, e.g. by a running record "
         "--append or a notebook); close it or let it finish, then run again";
}

// An open descriptor holding HDF5's exclusive lock on a file (flock, as HDF5 takes it), or
// nothing when the file does not exist. IoError when another process holds a lock.
class ExclusiveLock {
 public:
  explicit ExclusiveLock(const std::string& path) {
    if (!hdf5_locks_on()) return;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    // Missing or unreadable: whatever opens it next reports why.
    if (fd_ < 0) return;
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
      ::close(fd_);
      fd_ = -1;
      throw IoError(open_elsewhere_message(path));
    }
  }
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;
  // Closing the descriptor releases the lock.
  ~ExclusiveLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

// Temporaries an interrupting signal deletes. A fixed table: the handler may only read memory
// and call async-signal-safe functions (unlink, raise).
constexpr int kSignalSlots = 16;
constexpr size_t kSignalPathBytes = 4096;
struct SignalSlot {
  std::atomic<bool> armed{false};
  char path[kSignalPathBytes];
};
SignalSlot signal_slots[kSignalSlots];
std::atomic<bool> slot_taken[kSignalSlots];
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

void delete_temporaries_and_reraise(int signal) {
  for (SignalSlot& slot : signal_slots) {
    if (slot.armed.load()) ::unlink(slot.path);
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

// Once per process; a signal the process ignores or handles itself is left alone.
void install_signal_cleanup() {
  static const bool installed = [] {
    for (const int signal : kCleanupSignals) {
      struct sigaction current {};
      if (::sigaction(signal, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;
      struct sigaction cleanup {};
      cleanup.sa_handler = delete_temporaries_and_reraise;
      sigemptyset(&cleanup.sa_mask);
      ::sigaction(signal, &cleanup, nullptr);
    }
    return true;
  }();
  (void)installed;
}

// A slot holding path, armed; -1 when the path is too long or every slot is taken (the
// temporary is then only left behind by a signal, as by a kill).
int arm_signal_slot(const std::string& path) {
  if (path.size() >= kSignalPathBytes) return -1;
  install_signal_cleanup();
  for (int i = 0; i < kSignalSlots; ++i) {
    bool expected = false;
    if (!slot_taken[i].compare_exchange_strong(expected, true)) continue;
    std::memcpy(signal_slots[i].path, path.c_str(), path.size() + 1);
    signal_slots[i].armed.store(true);
    return i;
  }
  return -1;
}

void release_signal_slot(int slot) {
  if (slot < 0) return;
  signal_slots[slot].armed.store(false);
  slot_taken[slot].store(false);
}

bool exists(const std::string& path) {
  std::error_code error;
  return std::filesystem::symlink_status(path, error).type() !=
         std::filesystem::file_type::not_found;
}

// rename() that fails with EEXIST instead of replacing an existing target.
int rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // File systems without RENAME_NOREPLACE: a hard link fails on an existing name too.
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  ::unlink(from.c_str());
  return 0;
}

}  // namespace

void check_output_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!parent.empty() && !std::filesystem::is_directory(parent, error)) {
    throw IoError("cannot write " + path + ": directory " + parent.string() + " does not exist");
  }
}

void check_not_open_elsewhere(const std::string& path) {
  ExclusiveLock probe(path);
}

std::string staging_path(const std::string& target) {
  return target + ".partial-" + std::to_string(::getpid());
}

StagedFile::StagedFile(std::string target, Target kind)
    : target_(std::move(target)), path_(staging_path(target_)), kind_(kind) {
  check_output_directory(target_);
  if (kind_ == Target::kNew && exists(target_)) {
    throw InvalidInput(target_ + " exists; it is never overwritten");
  }
  std::error_code error;
  if (kind_ == Target::kReplace && std::filesystem::is_directory(target_, error)) {
    throw IoError("cannot write " + target_ + ": it is a directory");
  }
  if (kind_ == Target::kReplace) check_not_open_elsewhere(target_);
  std::remove(path_.c_str());
  signal_slot_ = arm_signal_slot(path_);
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : target_(std::move(other.target_)),
      path_(std::exchange(other.path_, std::string())),
      kind_(other.kind_),
      published_(other.published_),
      keep_(other.keep_),
      signal_slot_(std::exchange(other.signal_slot_, -1)) {}

StagedFile::~StagedFile() {
  release_signal_slot(signal_slot_);
  if (!path_.empty() && !published_ && !keep_) std::remove(path_.c_str());
}

void StagedFile::keep_if_interrupted() {
  release_signal_slot(std::exchange(signal_slot_, -1));
}

void StagedFile::publish() {
  HS_ASSERT(!published_ && !path_.empty() && "StagedFile published twice");
  // From the rename on, path_ may name nothing, or (pid reuse aside) nothing of ours.
  keep_if_interrupted();
  if (kind_ == Target::kNew) {
    if (rename_no_replace(path_, target_) != 0) {
      const int error = errno;
      keep_ = true;
      throw IoError(target_ +
                    (error == EEXIST ? std::string(" appeared while this command ran")
                                     : ": cannot move the new file into place (" +
                                           std::string(std::strerror(error)) + ")") +
                    "; the output is kept as " + path_);
    }
  } else {
    try {
      // Held until the old file is gone: nobody opens it between the check and the rename.
      ExclusiveLock old_file(target_);
      if (std::rename(path_.c_str(), target_.c_str()) != 0) {
        throw IoError(target_ + ": cannot replace it (" + std::strerror(errno) + ")");
      }
    } catch (const IoError& error) {
      keep_ = true;
      throw IoError(std::string(error.what()) + "; the new file is kept as " + path_);
    }
  }
  published_ = true;
}

}  // namespace headscope
