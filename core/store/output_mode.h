// What a command does with the file at its output path; the same for recordings
// (RecordingWriter::open) and analyses (AnalysisWriter::begin), so --append and --force mean the
// same in every command.
#pragma once

namespace headscope {

enum class OutputMode {
  // The path must not exist (InvalidInput). The file is written as PATH.partial-PID
  // (staging_path) and moved to PATH when complete (a recording: when its first run commits, or
  // at finish()): a command killed before that leaves nothing at PATH (Ctrl-C deletes the
  // temporary too, a kill leaves it, inert).
  kNew,
  // The file is written as PATH.partial-PID and replaces PATH only when complete; until then the
  // old file stays as it was (a recording killed after a run completed leaves the temporary
  // holding every completed run). IoError, before anything is written, when another process has
  // PATH open.
  kReplace,
  // Added to the file at PATH, which must be a recording of the same model that no other process
  // has open.
  kAppend,
};

}  // namespace headscope
