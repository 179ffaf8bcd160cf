// The count of device-to-host copies: every Backend::copy_to_host call, on any device.
//
// On a GPU each such copy waits for every kernel queued before it, so a training step that
// copies ids or lengths to the host to check them runs the GPU in lockstep with the host. The
// tests read this count around a training step to show it makes none (tests/examples and
// tests/cuda: test_host_copies.cpp). The CPU backend counts its copy_to_host calls too: they
// are the calls that a CUDA tensor would turn into real copies.
#pragma once

#include <cstdint>

namespace tg {

int64_t host_copy_count();  // since the program started
void count_host_copy();     // called by each backend's copy_to_host

}  // namespace tg
