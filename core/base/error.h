// Error model (see docs/DEVELOPING.md):
//  - user and IO mistakes throw one of the typed errors below; the CLI prints what() and exits 1;
//  - programmer errors (broken invariants) use HS_ASSERT, which aborts with file and line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace headscope {

// Base of every error a user can cause and act on. The message names the file, field or argument.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Malformed argument or input data (bad JSON field, wrong shape, unknown option value).
class InvalidInput : public Error {
 public:
  using Error::Error;
};

// A file could not be opened, read, mapped or written.
class IoError : public Error {
 public:
  using Error::Error;
};

// The checkpoint is well formed but describes something headscope does not run.
class UnsupportedModel : public Error {
 public:
  using Error::Error;
};

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "headscope: internal error: assertion `%s` failed at %s:%d\n", expr, file,
               line);
  std::abort();
}

}  // namespace headscope

// Invariants that only a bug can break; on in every build type because they are cheap.
#define HS_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::headscope::assert_fail(#cond, __FILE__, __LINE__))
