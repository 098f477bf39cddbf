# Third-party libraries as imported targets. Debian's packages are found in /usr; on other
# machines (the GPU image) the same packages unpacked with `dpkg -x` into a prefix are found
# through CMAKE_PREFIX_PATH.
find_package(Torch REQUIRED)
# PyTorch 2.x's libtorch.so exports its own copy of some std::filesystem functions, and
# remove_all from that copy jumps to a null pointer. Listing libstdc++ ahead of LibTorch makes
# the dynamic linker bind those symbols to libstdc++'s.
add_library(headscope_torch INTERFACE)
add_library(headscope::torch ALIAS headscope_torch)
target_link_libraries(headscope_torch INTERFACE stdc++ ${TORCH_LIBRARIES})
find_package(nlohmann_json REQUIRED)
find_package(CLI11 QUIET)
if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

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
