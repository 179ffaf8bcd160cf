# The CUDA backend (framework/backend/cuda): whether to build it, and how.
#
#   TAPEGRAD_CUDA=AUTO  (default) build it when a CUDA compiler is found, say so either way
#   TAPEGRAD_CUDA=ON    build it, or stop with an error
#   TAPEGRAD_CUDA=OFF   never build it (framework/backend/cuda/no_cuda.cpp stands in)
#
# The sanitizer build is CPU-only: ASan does not mix with the CUDA runtime's own allocations.
# Sets TAPEGRAD_WITH_CUDA and defines tapegrad_add_cuda_backend(target).
set(TAPEGRAD_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE TAPEGRAD_CUDA PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${TAPEGRAD_CUDA}" _tapegrad_cuda)
if(NOT _tapegrad_cuda MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "TAPEGRAD_CUDA must be AUTO, ON or OFF, got '${TAPEGRAD_CUDA}'")
endif()

set(TAPEGRAD_WITH_CUDA OFF)
set(_tapegrad_cuda_why "TAPEGRAD_CUDA=OFF")
if(TAPEGRAD_SANITIZE AND NOT _tapegrad_cuda STREQUAL "OFF")
  if(_tapegrad_cuda STREQUAL "ON")
    message(WARNING "TAPEGRAD_CUDA=ON is ignored: the sanitizer build (TAPEGRAD_SANITIZE) is CPU-only")
  endif()
  set(_tapegrad_cuda_why "the sanitizer build is CPU-only")
elseif(NOT _tapegrad_cuda STREQUAL "OFF")
  # The toolkit's usual home, when nothing else names a compiler (nvcc is often not on PATH).
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(TAPEGRAD_WITH_CUDA ON)
  elseif(_tapegrad_cuda STREQUAL "ON")
    message(FATAL_ERROR "TAPEGRAD_CUDA=ON but no CUDA compiler was found: install the CUDA "
                        "Toolkit, or set CMAKE_CUDA_COMPILER to its nvcc")
  else()
    set(_tapegrad_cuda_why "no CUDA compiler found")
  endif()
endif()

if(TAPEGRAD_WITH_CUDA)
  # Ampere (A100) and Hopper (H100/H200) machine code, plus Hopper PTX that the driver can
  # compile for newer GPUs.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "80-real;90-real;90-virtual")
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  # The library asks for cxx_std_20, which CMake also applies to .cu files; CMake before 3.26
  # does not know nvcc's flag for it (nvcc 12+ takes -std=c++20).
  if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  message(STATUS "tapegrad: CUDA backend: built (CUDA ${CUDAToolkit_VERSION}, "
                 "architectures ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "tapegrad: CUDA backend: not built (${_tapegrad_cuda_why})")
endif()

# Adds the .cu kernels to `target` and links cudart and cuBLAS.
function(tapegrad_add_cuda_backend target)
  file(GLOB cuda_sources CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/framework/backend/cuda/*.cu)
  target_sources(${target} PRIVATE ${cuda_sources})
  target_link_libraries(${target} PRIVATE CUDA::cudart CUDA::cublas)
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>")
endfunction()
