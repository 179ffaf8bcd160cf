// Vector kernels compiled for several x86-64 levels, the widest the CPU has chosen at run time.
//
// The build targets the x86-64 baseline (SSE2), so that tapegrad runs on any 64-bit x86 CPU.
// The loops that call cpu_math.h are where the time goes in a training step (GELU, tanh,
// sigmoid, softmax, the LSTM cell, Adam), and on a CPU with AVX2 or AVX-512 SSE2 code uses a
// quarter or an eighth of the vector width. TG_VECTOR_KERNEL before such a function asks GCC for
// one copy per level (function multi-versioning): x86-64-v4 (AVX-512), v3 (AVX2 + FMA), v2
// (SSE4.2) and the baseline; the dynamic loader picks the best copy once, when the library is
// loaded (an ifunc), so a call costs what any call through the PLT costs. One source, the
// compiler vectorises it; cpu_math.h stays the one readable definition of each function.
//
// Only GCC on x86-64 is asked; elsewhere the attribute is empty and the baseline build is all.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TG_VECTOR_KERNEL \
  [[gnu::target_clones("arch=x86-64-v4", "arch=x86-64-v3", "arch=x86-64-v2", "default")]]
#else
#define TG_VECTOR_KERNEL
#endif
