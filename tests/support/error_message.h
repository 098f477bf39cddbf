// The message of the error `call` throws, or a test failure when it throws none.
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace headscope::test {

template <typename Error, typename Call>
std::string error_message(Call call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

}  // namespace headscope::test
