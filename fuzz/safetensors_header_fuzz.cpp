// libFuzzer entry: any byte string must parse or throw a headscope::Error, never crash.
#include <cstddef>
#include <cstdint>

#include "core/base/error.h"
#include "core/checkpoint/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    headscope::parse_safetensors_header(data, size, "fuzz");
  } catch (const headscope::Error&) {
    // rejected input: the expected outcome for most mutations
  }
  return 0;
}
