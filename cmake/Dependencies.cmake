# Finds tapegrad's dependencies, each with an error that names the Debian package to install.

find_package(OpenMP)
if(NOT OpenMP_CXX_FOUND)
  message(FATAL_ERROR "OpenMP not found: tapegrad needs a compiler with OpenMP (Debian: g++).")
endif()

# One pool of threads: Debian builds OpenBLAS three ways (pthread, openmp, serial). The OpenMP
# build runs its gemm threads in the same libgomp pool as our own loops; the pthread build (often
# the system default) keeps a second pool, and on a 2-core machine the two fight for the cores
# (an MLP step measured 30x slower at 2 threads than at 1). So the OpenMP build is preferred,
# linked by its full path; the build tree's RPATH makes it the one loaded at run time.
find_library(TAPEGRAD_OPENBLAS_OPENMP openblas
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
find_path(TAPEGRAD_CBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp
  PATH_SUFFIXES openblas ${CMAKE_LIBRARY_ARCHITECTURE})
if(TAPEGRAD_OPENBLAS_OPENMP)
  set(TAPEGRAD_BLAS_LIBRARIES ${TAPEGRAD_OPENBLAS_OPENMP})
  message(STATUS "tapegrad: OpenBLAS (OpenMP build) ${TAPEGRAD_OPENBLAS_OPENMP}")
else()
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS)
  if(NOT BLAS_FOUND)
    message(FATAL_ERROR "OpenBLAS not found. On Debian: apt-get install libopenblas-openmp-dev")
  endif()
  set(TAPEGRAD_BLAS_LIBRARIES ${BLAS_LIBRARIES})
  message(WARNING "tapegrad: using ${BLAS_LIBRARIES}; if it is OpenBLAS's pthread build, two "
                  "thread pools compete for the cores (Debian: apt-get install libopenblas-openmp-dev)")
endif()
if(NOT TAPEGRAD_CBLAS_INCLUDE_DIR)
  message(FATAL_ERROR "cblas.h not found. On Debian: apt-get install libopenblas-openmp-dev")
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

if(TAPEGRAD_BUILD_EXAMPLES OR TAPEGRAD_BUILD_TESTS)
  find_package(CLI11 CONFIG)
  if(NOT CLI11_FOUND)
    message(FATAL_ERROR "CLI11 not found (the example programs parse their flags with it). "
                        "On Debian: apt-get install libcli11-dev")
  endif()
endif()

if(TAPEGRAD_BUILD_TESTS)
  find_package(doctest CONFIG)
  if(NOT doctest_FOUND)
    message(FATAL_ERROR "doctest not found. On Debian: apt-get install doctest-dev")
  endif()
endif()
