// libFuzzer entry: any byte string, opened as a recording, must read or throw headscope::Error,
// never crash, abort or hang.
#include <cstddef>
#include <cstdint>

#include "core/base/error.h"
#include "core/store/recording_reader.h"
#include "fuzz/read_whole_recording.h"

// A structure check that hangs is cut off sooner than a user's 60 s, so that libFuzzer's own
// -timeout only fires on hangs after the check.
constexpr double kCheckTimeoutS = 5.0;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const headscope::RecordingReader reader =
        headscope::RecordingReader::open_image(data, size, "fuzz.h5", kCheckTimeoutS);
    headscope::read_whole_recording(reader);
  } catch (const headscope::Error&) {
    // rejected input: the expected outcome for most mutations
  }
  return 0;
}
