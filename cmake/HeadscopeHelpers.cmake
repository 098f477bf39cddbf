# Shared build settings for every headscope target.
function(headscope_target_defaults target)
  # -fPIC everywhere: Qt 6 requires it of the code that uses it, and a precompiled header is
  # used only by compiles with the same PIC setting (GCC ignores it otherwise and parses the
  # 570 MB of LibTorch headers again).
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -fPIC)
  if(HEADSCOPE_FATAL_WARNINGS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# <torch/torch.h> is the bulk of compile time for the sources that include it: one precompiled
# header, reused by every target. Outside unity batches only those sources take it: loading the
# 570 MB header costs about 10 s of CPU per file (measured with g++ 12), more than a file that
# includes only <torch/types.h> or no LibTorch at all takes to compile without it. A unity batch
# of a target that uses it takes it once for the whole batch.
function(headscope_use_torch_pch target)
  if(NOT HEADSCOPE_USE_PCH OR NOT TARGET headscope_pch)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  set(torch_sources "")
  foreach(source ${sources})
    get_filename_component(path ${source} ABSOLUTE)
    file(STRINGS ${path} torch_includes REGEX "^#include <torch/torch\\.h>")
    if(torch_includes)
      list(APPEND torch_sources ${source})
    endif()
  endforeach()
  if(NOT torch_sources)
    return()
  endif()
  # Unity batches for the product's libraries that use LibTorch: its headers are what a batch
  # amortises (the test executables and their support library stay one file per unit).
  get_target_property(type ${target} TYPE)
  if(HEADSCOPE_UNITY_BATCH GREATER 1 AND type STREQUAL "STATIC_LIBRARY"
     AND NOT target MATCHES "test")
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON
      UNITY_BUILD_BATCH_SIZE ${HEADSCOPE_UNITY_BATCH})
  else()
    foreach(source ${sources})
      if(NOT source IN_LIST torch_sources)
        set_source_files_properties(${source} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
      endif()
    endforeach()
  endif()
  target_precompile_headers(${target} REUSE_FROM headscope_pch)
endfunction()

# One library target per folder; sources are the folder's *.cpp files and those of the
# sub-folders named in SUBDIRS (analyses/tasks, ...).
function(headscope_add_library name)
  cmake_parse_arguments(ARG "" "" "DEPS;SUBDIRS" ${ARGN})
  set(patterns ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  foreach(sub ${ARG_SUBDIRS})
    list(APPEND patterns ${CMAKE_CURRENT_SOURCE_DIR}/${sub}/*.cpp)
  endforeach()
  file(GLOB sources CONFIGURE_DEPENDS ${patterns})
  add_library(${name} STATIC ${sources})
  add_library(headscope::${name} ALIAS ${name})
  headscope_target_defaults(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  headscope_use_torch_pch(${name})
endfunction()
