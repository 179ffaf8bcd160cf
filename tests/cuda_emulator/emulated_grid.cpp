// Running a kernel's grid on the CPU (see emulator.h).
//
// Blocks run one after another. A block's threads are fibers: each has its own stack and runs
// until it must wait for others (a barrier), then hands control back to the scheduler, which
// resumes the next thread in a round-robin. A barrier opens when all of its threads have
// arrived; a round in which no thread moved means some thread waits for a barrier that cannot
// open (a thread returned early, or waits at another one): on a GPU, a hang or undefined
// behaviour; here, an error that names the kernel and the block.
//
// Barriers: __syncthreads is one per block; a warp shuffle is one per warp of 32 threads, met
// twice (every lane publishes its value, all read, then all leave before any publishes again).
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <memory>
#include <string>
#include <vector>

#include "emulator_state.h"

namespace cuda_emulator {
namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr unsigned kWarpSize = 32;
constexpr unsigned kMaxThreadsPerBlock = 1024;

struct Barrier {
  unsigned expected = 0;
  unsigned arrived = 0;
  uint64_t opened = 0;  // how many times it has opened
};

struct Fiber {
  ucontext_t context{};
  std::unique_ptr<char[]> stack = std::make_unique<char[]>(kStackBytes);
  bool finished = false;
};

// The grid being run, and the block within it.
struct Run {
  const char* kernel = nullptr;
  const std::function<void()>* thread_body = nullptr;
  ucontext_t scheduler{};
  std::vector<Fiber> fibers;  // grown to the largest block seen, reused
  unsigned current = 0;       // the thread whose fiber runs
  uint64_t moves = 0;         // barrier arrivals and finished threads, to see a round stall
  Barrier block_barrier;
  std::vector<Barrier> warp_barriers;
  std::vector<uint64_t> lane_values;      // what each thread offers to its warp's shuffle
  const void* scheduler_stack = nullptr;  // for AddressSanitizer, learned on the first switch
  size_t scheduler_stack_bytes = 0;
};
Run& run() {
  static Run r;
  return r;
}

bool in_kernel() { return run().kernel != nullptr; }

// AddressSanitizer tracks one stack per thread; it must be told when a switch of context moves
// execution to another stack (its fiber interface). Without ASan these do nothing.
void before_switch([[maybe_unused]] void** fake_stack, [[maybe_unused]] const void* stack,
                   [[maybe_unused]] size_t bytes) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(fake_stack, stack, bytes);
#endif
}
void after_switch([[maybe_unused]] void* fake_stack, [[maybe_unused]] const void** old_stack,
                  [[maybe_unused]] size_t* old_bytes) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(fake_stack, old_stack, old_bytes);
#endif
}

void resume_thread(unsigned t) {
  Run& r = run();
  void* fake_stack = nullptr;
  before_switch(&fake_stack, r.fibers[t].stack.get(), kStackBytes);
  swapcontext(&r.scheduler, &r.fibers[t].context);
  after_switch(fake_stack, nullptr, nullptr);
}

void yield_to_scheduler() {
  Run& r = run();
  void* fake_stack = nullptr;
  before_switch(&fake_stack, r.scheduler_stack, r.scheduler_stack_bytes);
  swapcontext(&r.fibers[r.current].context, &r.scheduler);
  after_switch(fake_stack, &r.scheduler_stack, &r.scheduler_stack_bytes);
}

void wait_at(Barrier& barrier) {
  Run& r = run();
  ++r.moves;
  if (++barrier.arrived == barrier.expected) {
    barrier.arrived = 0;
    ++barrier.opened;
    return;
  }
  const uint64_t opened = barrier.opened;
  while (barrier.opened == opened) yield_to_scheduler();
}

// Where a thread's fiber starts; returning resumes the scheduler (the context's uc_link).
void thread_entry() {
  Run& r = run();
  after_switch(nullptr, &r.scheduler_stack, &r.scheduler_stack_bytes);
  (*r.thread_body)();
  r.fibers[r.current].finished = true;
  ++r.moves;
  before_switch(nullptr, r.scheduler_stack, r.scheduler_stack_bytes);  // this stack is done
}

std::string describe_stall(unsigned threads) {
  const Run& r = run();
  unsigned returned = 0;
  for (unsigned t = 0; t < threads; ++t) returned += r.fibers[t].finished ? 1 : 0;
  unsigned in_shuffles = 0;
  for (const Barrier& warp : r.warp_barriers) in_shuffles += warp.arrived;
  return "kernel " + std::string(r.kernel) + ", block " + std::to_string(blockIdx.x) + " of " +
         std::to_string(gridDim.x) + ": a barrier can never open (of " + std::to_string(threads) +
         " threads, waiting at __syncthreads: " + std::to_string(r.block_barrier.arrived) +
         ", at a warp shuffle: " + std::to_string(in_shuffles) +
         ", returned: " + std::to_string(returned) +
         "); every thread of a block must reach the same barriers";
}

// Runs every thread of the current block to its end; false when the block stalled.
bool run_block(unsigned threads) {
  Run& r = run();
  r.block_barrier = Barrier{threads};
  r.warp_barriers.assign((threads + kWarpSize - 1) / kWarpSize, Barrier{kWarpSize});
  if (threads % kWarpSize != 0) r.warp_barriers.back().expected = threads % kWarpSize;
  for (unsigned t = 0; t < threads; ++t) {
    Fiber& fiber = r.fibers[t];
    fiber.finished = false;
    getcontext(&fiber.context);
    fiber.context.uc_stack.ss_sp = fiber.stack.get();
    fiber.context.uc_stack.ss_size = kStackBytes;
    fiber.context.uc_link = &r.scheduler;
    makecontext(&fiber.context, thread_entry, 0);
  }
  unsigned running = threads;
  while (running > 0) {
    const uint64_t moves_before = r.moves;
    for (unsigned t = 0; t < threads; ++t) {
      if (r.fibers[t].finished) continue;
      r.current = t;
      threadIdx = uint3{t, 0, 0};
      resume_thread(t);
      if (r.fibers[t].finished) --running;
    }
    if (running > 0 && r.moves == moves_before) {
      record_error(cudaErrorLaunchFailure, describe_stall(threads));
      return false;
    }
  }
  return true;
}

}  // namespace

void run_grid(const char* kernel, unsigned blocks, unsigned threads,
              const std::function<void()>& thread_body) {
  Run& r = run();
  if (in_kernel()) {
    record_error(cudaErrorLaunchFailure,
                 std::string("kernel ") + kernel + " was launched from inside kernel " + r.kernel);
    return;
  }
  if (blocks == 0 || threads == 0 || threads > kMaxThreadsPerBlock) {
    record_error(cudaErrorInvalidConfiguration,
                 std::string("kernel ") + kernel + " launched with " + std::to_string(blocks) +
                     " blocks of " + std::to_string(threads) + " threads");
    return;
  }
  r.kernel = kernel;
  r.thread_body = &thread_body;
  if (r.fibers.size() < threads) r.fibers.resize(threads);
  r.lane_values.assign(threads, 0);
  gridDim = dim3{blocks, 1, 1};
  blockDim = dim3{threads, 1, 1};
  for (unsigned block = 0; block < blocks; ++block) {
    blockIdx = uint3{block, 0, 0};
    if (!run_block(threads)) break;
  }
  r.kernel = nullptr;
  check_guards((std::string("kernel ") + kernel).c_str());
}

bool check_kernel_argument(const char* kernel, int position, const void* pointer) {
  if (pointer == nullptr || is_device_range(pointer, 0)) return true;
  record_error(cudaErrorIllegalAddress, std::string("kernel ") + kernel + ": argument " +
                                            std::to_string(position) +
                                            " is a pointer to host memory, not device memory");
  return false;
}

void check_device_address(const void* pointer, size_t bytes, const char* what) {
  if (!is_device_range(pointer, bytes))
    record_error(cudaErrorIllegalAddress, std::string(what) + " in kernel " +
                                              (in_kernel() ? run().kernel : "(none)") +
                                              " on an address outside device memory");
}

void sync_block() {
  if (!in_kernel()) {
    record_error(cudaErrorLaunchFailure, "__syncthreads called outside a kernel");
    return;
  }
  wait_at(run().block_barrier);
}

uint64_t shuffle_down(unsigned mask, uint64_t bits, unsigned delta) {
  Run& r = run();
  if (!in_kernel() || mask != 0xffffffffu || blockDim.x % kWarpSize != 0) {
    record_error(cudaErrorLaunchFailure,
                 "__shfl_down_sync: the emulator handles full warps with a full mask only");
    return bits;
  }
  const unsigned lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  r.lane_values[threadIdx.x] = bits;
  wait_at(r.warp_barriers[warp]);  // every lane has published its value
  const uint64_t result = lane + delta < kWarpSize ? r.lane_values[threadIdx.x + delta] : bits;
  wait_at(r.warp_barriers[warp]);  // every lane has read before any publishes again
  return result;
}

}  // namespace cuda_emulator
