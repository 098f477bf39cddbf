# The parser libraries (core/base, tokenizer, checkpoint, store) must build without LibTorch (the
# fuzz targets build them standalone). Debian puts <ATen/...>, <c10/...> and some <torch/...>
# headers in /usr/include, where the compiler finds them without the LibTorch target, so an
# include of them would compile here and break only the fuzz build: refuse it in the tests.
# Run as: cmake -DROOT=<source dir> -P parsers_include_no_libtorch.cmake
set(offenders "")
foreach(folder base tokenizer checkpoint store)
  file(GLOB_RECURSE files ${ROOT}/core/${folder}/*.h ${ROOT}/core/${folder}/*.cpp)
  foreach(file ${files})
    file(STRINGS ${file} lines REGEX "^#include [<\"](torch|ATen|c10|caffe2)/")
    if(lines)
      list(APPEND offenders "${file}: ${lines}")
    endif()
  endforeach()
endforeach()
if(offenders)
  list(JOIN offenders "\n" message)
  message(FATAL_ERROR "core parser libraries include LibTorch:\n${message}")
endif()
message(STATUS "core/base, tokenizer, checkpoint and store include no LibTorch header")
