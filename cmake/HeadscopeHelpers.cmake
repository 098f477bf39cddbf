# Shared build settings for every headscope target.
function(headscope_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(HEADSCOPE_FATAL_WARNINGS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# LibTorch headers are the bulk of compile time: one precompiled header, reused by every target.
function(headscope_use_torch_pch target)
  if(NOT HEADSCOPE_USE_PCH)
    return()
  endif()
  if(TARGET headscope_pch)
    target_precompile_headers(${target} REUSE_FROM headscope_pch)
  endif()
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
