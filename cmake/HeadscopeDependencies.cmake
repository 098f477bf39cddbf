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
find_package(CLI11 QUIET)
if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

# Boost.Math's distributions (header-only) for the circuit overlap statistics.
find_package(Boost 1.74 REQUIRED CONFIG)

include(HeadscopeParserDependencies)
