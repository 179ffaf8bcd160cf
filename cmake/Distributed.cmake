# tapegrad::distributed: data-parallel training on MPI (optim/distributed/distributed.h).
#
# TAPEGRAD_MPI: AUTO (default) builds on Open MPI when CMake finds it, ON requires it, OFF never
# looks. Without MPI the target still exists, built from single_process.cpp: the same functions
# for one process, whose init() says how to get MPI. So programs link it either way.
# Its own target (not part of tapegrad::tapegrad) because it links MPI, and the engine links only
# OpenBLAS, zlib and CUDA. Only the main thread calls MPI (MPI_THREAD_FUNNELED).
set(TAPEGRAD_MPI AUTO CACHE STRING "Build tapegrad::distributed on MPI: AUTO, ON or OFF")
set_property(CACHE TAPEGRAD_MPI PROPERTY STRINGS AUTO ON OFF)

set(TAPEGRAD_WITH_MPI OFF)
if(NOT TAPEGRAD_MPI STREQUAL "OFF")
  set(MPI_CXX_SKIP_MPICXX ON)  # the C API only, not the deprecated C++ bindings
  if(TAPEGRAD_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
  else()
    find_package(MPI COMPONENTS CXX)
  endif()
  if(MPI_CXX_FOUND)
    set(TAPEGRAD_WITH_MPI ON)
  endif()
endif()
# mpirun runs the multi-process tests; without it they report Skipped.
find_program(TAPEGRAD_MPIRUN NAMES mpirun mpiexec HINTS ${MPIEXEC_EXECUTABLE})

set(distributed_sources ${PROJECT_SOURCE_DIR}/optim/distributed/distributed.cpp)
if(TAPEGRAD_WITH_MPI)
  list(APPEND distributed_sources ${PROJECT_SOURCE_DIR}/optim/distributed/mpi_communicator.cpp)
  message(STATUS "tapegrad: distributed training on MPI ${MPI_CXX_VERSION}")
else()
  list(APPEND distributed_sources ${PROJECT_SOURCE_DIR}/optim/distributed/single_process.cpp)
  message(STATUS "tapegrad: distributed training off (no MPI; Debian: apt-get install "
                 "libopenmpi-dev openmpi-bin)")
endif()
# An object library, as tapegrad::datasets: the engine comes from the program's own
# tapegrad::tapegrad (or, in the tests, the emulated-CUDA build of it), so the program names both.
add_library(tapegrad_distributed OBJECT ${distributed_sources})
add_library(tapegrad::distributed ALIAS tapegrad_distributed)
target_include_directories(tapegrad_distributed PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_features(tapegrad_distributed PUBLIC cxx_std_20)
target_compile_options(tapegrad_distributed PRIVATE -Wall -Wextra)
if(TAPEGRAD_WITH_MPI)
  target_link_libraries(tapegrad_distributed PUBLIC MPI::MPI_CXX)
endif()
