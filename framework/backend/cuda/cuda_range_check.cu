// Range checks on the GPU (ids, targets, lengths), reported at the next host copy.
//
// Copying the values to the host to check them would make the host wait for every kernel
// queued before: one stall per embedding or loss call. Instead a kernel records, per check, the
// first position holding a bad value, packed with the value as (position << 32 | value) and
// kept by atomicMin in a slot of device memory. The slots are read when the host waits for the
// GPU anyway (copy_to_host, synchronize), and the first failed check throws there, with the
// message the CPU gives at once. Meanwhile the kernels that use the values skip a bad one, so
// nothing is read or written out of bounds.
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {

namespace {

using Slot = unsigned long long;
constexpr Slot kNoFailure = ~0ull;
// Checks pending at once; past this many, a check reads the slots first (a wait every
// kNumSlots checks, when nothing else synchronised).
constexpr size_t kNumSlots = 4096;

struct PendingChecks {
  std::mutex mutex;
  Slot* slots = nullptr;  // device memory, kNumSlots, kNoFailure where no check failed
  std::vector<RangeCheck> checks;
};
PendingChecks& pending() {
  static PendingChecks p;
  return p;
}

__global__ void reset_slots_kernel(int64_t n, Slot* slots) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) slots[i] = kNoFailure;
}

__global__ void range_check_kernel(int64_t n, const int32_t* values, int64_t low, int64_t high,
                                   int64_t exempt, Slot* slot) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    const int64_t v = values[i];
    if (v == exempt || (v >= low && v < high)) continue;
    const Slot position = static_cast<Slot>(i < 0xFFFFFFFFll ? i : 0xFFFFFFFFll);
    atomicMin(slot, position << 32 | static_cast<uint32_t>(values[i]));
  }
}

// Reads the slots of the pending checks and throws for the first that failed. The caller holds
// the lock and has just waited for the GPU, so this copy waits for nothing.
void report_locked(PendingChecks& p) {
  if (p.checks.empty()) return;
  std::vector<Slot> found(p.checks.size());
  cuda::check_cuda(
      cudaMemcpy(found.data(), p.slots, found.size() * sizeof(Slot), cudaMemcpyDeviceToHost),
      "cudaMemcpy of the range checks' results");
  const auto n = static_cast<int64_t>(found.size());
  cuda::launch("reset_range_checks", n, reset_slots_kernel, p.slots);
  const std::vector<RangeCheck> checks = std::move(p.checks);
  p.checks.clear();
  for (size_t c = 0; c < found.size(); ++c) {
    if (found[c] == kNoFailure) continue;
    const auto value = static_cast<int32_t>(static_cast<uint32_t>(found[c] & 0xFFFFFFFFull));
    fail_out_of_range(checks[c], value, static_cast<int64_t>(found[c] >> 32),
                      " (checked on the GPU, reported at the next host copy)");
  }
}

}  // namespace

void CudaBackend::check_range(const Tensor& values, const RangeCheck& range) {
  if (values.numel() == 0) return;
  PendingChecks& p = pending();
  std::lock_guard<std::mutex> lock(p.mutex);
  if (p.slots == nullptr) {
    void* memory = nullptr;
    cuda::check_cuda(cudaMalloc(&memory, kNumSlots * sizeof(Slot)),
                     "cudaMalloc for the range checks");
    p.slots = static_cast<Slot*>(memory);
    cuda::launch("reset_range_checks", static_cast<int64_t>(kNumSlots), reset_slots_kernel,
                 p.slots);
  }
  if (p.checks.size() == kNumSlots) report_locked(p);
  Slot* slot = p.slots + p.checks.size();
  p.checks.push_back(range);
  const int64_t high = range.high_inclusive ? range.high + 1 : range.high;
  cuda::launch("range_check", values.numel(), range_check_kernel, values.device_data<int32_t>(),
               range.low, high, range.exempt, slot);
}

// After a wait for the GPU: throws if a range check queued before it failed.
void report_range_checks() {
  PendingChecks& p = pending();
  std::lock_guard<std::mutex> lock(p.mutex);
  report_locked(p);
}

}  // namespace tg
