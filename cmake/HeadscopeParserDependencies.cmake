# What core's parser libraries (base, tokenizer, checkpoint, store) need: no LibTorch, so the
# fuzz targets build them standalone (fuzz/CMakeLists.txt).
find_package(nlohmann_json REQUIRED)

# A plain C library: headers + one shared library, as an imported target.
function(headscope_find_c_library target header library)
  cmake_parse_arguments(ARG "" "" "PATH_SUFFIXES" ${ARGN})
  find_path(${target}_INCLUDE_DIR ${header} PATH_SUFFIXES ${ARG_PATH_SUFFIXES})
  find_library(${target}_LIBRARY NAMES ${library} PATH_SUFFIXES ${ARG_PATH_SUFFIXES})
  if(NOT ${target}_INCLUDE_DIR OR NOT ${target}_LIBRARY)
    message(FATAL_ERROR "headscope needs ${header} and lib${library} (Debian: see scripts/setup.sh)")
  endif()
  add_library(headscope::${target} UNKNOWN IMPORTED)
  set_target_properties(headscope::${target} PROPERTIES
    IMPORTED_LOCATION ${${target}_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${${target}_INCLUDE_DIR})
endfunction()

headscope_find_c_library(pcre2 pcre2.h pcre2-8)
headscope_find_c_library(utf8proc utf8proc.h utf8proc)
headscope_find_c_library(hdf5 hdf5.h "hdf5_serial;hdf5" PATH_SUFFIXES hdf5/serial)
headscope_find_c_library(hdf5_hl hdf5_hl.h "hdf5_serial_hl;hdf5_hl" PATH_SUFFIXES hdf5/serial)
# Recording chunks are deflated on worker threads (core/store/chunk_compression.h).
headscope_find_c_library(libdeflate libdeflate.h deflate)
