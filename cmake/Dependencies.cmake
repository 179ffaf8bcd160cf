# Finds tapegrad's dependencies, each with an error that names the Debian package to install.

find_package(OpenMP)
if(NOT OpenMP_CXX_FOUND)
  message(FATAL_ERROR "OpenMP not found: tapegrad needs a compiler with OpenMP (Debian: g++).")
endif()

set(BLA_VENDOR OpenBLAS)
find_package(BLAS)
if(NOT BLAS_FOUND)
  message(FATAL_ERROR "OpenBLAS not found. On Debian: apt-get install libopenblas-dev")
endif()
find_path(TAPEGRAD_CBLAS_INCLUDE_DIR cblas.h
  PATH_SUFFIXES openblas x86_64-linux-gnu aarch64-linux-gnu)
if(NOT TAPEGRAD_CBLAS_INCLUDE_DIR)
  message(FATAL_ERROR "cblas.h not found. On Debian: apt-get install libopenblas-dev")
endif()

find_package(ZLIB)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "zlib not found. On Debian: apt-get install zlib1g-dev")
endif()

find_path(TAPEGRAD_STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb)
find_library(TAPEGRAD_STB_LIBRARY stb)
if(NOT TAPEGRAD_STB_INCLUDE_DIR OR NOT TAPEGRAD_STB_LIBRARY)
  message(FATAL_ERROR "stb (stb_image_write) not found. On Debian: apt-get install libstb-dev")
endif()

if(TAPEGRAD_BUILD_TESTS)
  find_package(doctest CONFIG)
  if(NOT doctest_FOUND)
    message(FATAL_ERROR "doctest not found. On Debian: apt-get install doctest-dev")
  endif()
endif()
