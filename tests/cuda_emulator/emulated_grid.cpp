// Running a kernel's grid on the CPU (see emulator.h).
//
// Blocks run one after another. Threads that each work alone (cuda::launch) run as plain calls,
// one after another. Threads that work together (cuda::launch_rows) are fibers: each has its own
// stack and runs until it must wait for others (a barrier), then hands control back to the
// scheduler, which resumes, round after round, each thread that can go on. A barrier opens when
// all of its threads have arrived; a round in which no thread can go on means one waits for a
// barrier that cannot open (a thread returned early, or waits at another one): on a GPU, a hang or
// undefined behaviour; here, an error that names the kernel and the block.
//
// Barriers: __syncthreads is one per block; a warp shuffle (down or xor) is one per warp of 32
// threads, met twice (every lane publishes its value, all read, then all leave before any publishes
// again).
#include <setjmp.h>
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <map>
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
  std::unique_ptr<char[]> stack = std::make_unique<char[]>(kStackBytes);
  ucontext_t start{};  // where the thread begins: thread_entry on this fiber's stack
  jmp_buf resume;      // where it waits
  bool started = false;
  bool finished = false;
  const Barrier* waiting_at = nullptr;  // the barrier it waits for, and how often that had
  uint64_t waiting_since = 0;           // opened then: it is resumed only once it opens again
};

// The grid being run, and the block within it.
struct Run {
  const char* kernel = nullptr;
  bool together = false;  // the block's threads run as fibers
  const std::function<void()>* thread_body = nullptr;
  jmp_buf scheduler;          // where the scheduler waits while a thread runs
  std::vector<Fiber> fibers;  // grown to the largest block seen, reused
  unsigned current = 0;       // the thread whose fiber runs
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

std::map<std::string, size_t>& launch_counts() {
  static std::map<std::string, size_t> counts;
  return counts;
}

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

// Switching between the scheduler and a thread. A thread is started once with setcontext (on
// its own stack, at thread_entry); after that, each switch is a _setjmp that saves where this
// side stands and a _longjmp to where the other side stands, both frames alive on their own
// stacks. Unlike swapcontext, _setjmp/_longjmp leave the signal mask alone, so a switch costs no
// system call: the difference between seconds and minutes for a small training step.
void resume_thread(unsigned t) {
  Run& r = run();
  Fiber& fiber = r.fibers[t];
  void* fake_stack = nullptr;
  before_switch(&fake_stack, fiber.stack.get(), kStackBytes);
  if (_setjmp(r.scheduler) == 0) {
    if (!fiber.started) {
      fiber.started = true;
      setcontext(&fiber.start);
    }
    _longjmp(fiber.resume, 1);
  }
  after_switch(fake_stack, nullptr, nullptr);
}

void yield_to_scheduler() {
  Run& r = run();
  Fiber& fiber = r.fibers[r.current];
  void* fake_stack = nullptr;
  before_switch(&fake_stack, r.scheduler_stack, r.scheduler_stack_bytes);
  if (_setjmp(fiber.resume) == 0) _longjmp(r.scheduler, 1);
  after_switch(fake_stack, &r.scheduler_stack, &r.scheduler_stack_bytes);
}

void wait_at(Barrier& barrier) {
  Run& r = run();
  if (++barrier.arrived == barrier.expected) {
    barrier.arrived = 0;
    ++barrier.opened;
    return;
  }
  Fiber& fiber = r.fibers[r.current];
  fiber.waiting_at = &barrier;
  fiber.waiting_since = barrier.opened;
  yield_to_scheduler();  // the scheduler resumes this thread once the barrier has opened
  fiber.waiting_at = nullptr;
}

bool may_resume(const Fiber& fiber) {
  return !fiber.finished &&
         (fiber.waiting_at == nullptr || fiber.waiting_at->opened != fiber.waiting_since);
}

// Where a thread's fiber starts. It never returns: when the kernel is done, the thread jumps
// back to the scheduler for good.
void thread_entry() {
  Run& r = run();
  after_switch(nullptr, &r.scheduler_stack, &r.scheduler_stack_bytes);
  (*r.thread_body)();
  r.fibers[r.current].finished = true;
  before_switch(nullptr, r.scheduler_stack, r.scheduler_stack_bytes);  // this stack is done
  _longjmp(r.scheduler, 1);
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
    fiber.started = fiber.finished = false;
    fiber.waiting_at = nullptr;
    getcontext(&fiber.start);
    fiber.start.uc_stack.ss_sp = fiber.stack.get();
    fiber.start.uc_stack.ss_size = kStackBytes;
    fiber.start.uc_link = nullptr;  // thread_entry never returns
    makecontext(&fiber.start, thread_entry, 0);
  }
  unsigned running = threads;
  while (running > 0) {
    bool resumed_any = false;
    for (unsigned t = 0; t < threads; ++t) {
      if (!may_resume(r.fibers[t])) continue;
      resumed_any = true;
      r.current = t;
      threadIdx = uint3{t, 0, 0};
      resume_thread(t);
      if (r.fibers[t].finished) --running;
    }
    if (!resumed_any) {
      record_error(cudaErrorLaunchFailure, describe_stall(threads));
      return false;
    }
  }
  return true;
}

}  // namespace

void run_grid(const char* kernel, unsigned blocks, unsigned threads, bool together,
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
  ++launch_counts()[kernel];
  r.kernel = kernel;
  r.together = together;
  r.thread_body = &thread_body;
  if (together && r.fibers.size() < threads) r.fibers.resize(threads);
  r.lane_values.assign(threads, 0);
  gridDim = dim3{blocks, 1, 1};
  blockDim = dim3{threads, 1, 1};
  for (unsigned block = 0; block < blocks; ++block) {
    blockIdx = uint3{block, 0, 0};
    if (together) {
      if (!run_block(threads)) break;
      continue;
    }
    for (unsigned t = 0; t < threads; ++t) {
      threadIdx = uint3{t, 0, 0};
      thread_body();
    }
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

// Threads launched to work alone (cuda::launch) run as plain calls, which cannot wait.
bool may_wait(const char* what) {
  const Run& r = run();
  if (!in_kernel())
    record_error(cudaErrorLaunchFailure, std::string(what) + " called outside a kernel");
  else if (!r.together)
    record_error(cudaErrorLaunchFailure,
                 "kernel " + std::string(r.kernel) + " calls " + what +
                     ", but was launched with one thread per element (cuda::launch); a kernel "
                     "whose threads work together is launched with cuda::launch_rows");
  return in_kernel() && r.together;
}

void sync_block() {
  if (may_wait("__syncthreads")) wait_at(run().block_barrier);
}

namespace {

// Every lane of the warp publishes its value, then each reads the one of lane `source` (its own
// where `source` lies outside the warp), as the __shfl_*_sync functions do.
uint64_t shuffle(const char* name, unsigned mask, uint64_t bits, unsigned source) {
  Run& r = run();
  if (!may_wait(name)) return bits;
  if (mask != 0xffffffffu || blockDim.x % kWarpSize != 0) {
    record_error(cudaErrorLaunchFailure,
                 std::string(name) + ": the emulator handles full warps with a full mask only");
    return bits;
  }
  const unsigned warp = threadIdx.x / kWarpSize;
  r.lane_values[threadIdx.x] = bits;
  wait_at(r.warp_barriers[warp]);  // every lane has published its value
  const uint64_t result = source < kWarpSize ? r.lane_values[warp * kWarpSize + source] : bits;
  wait_at(r.warp_barriers[warp]);  // every lane has read before any publishes again
  return result;
}

}  // namespace

uint64_t shuffle_down(unsigned mask, uint64_t bits, unsigned delta) {
  return shuffle("__shfl_down_sync", mask, bits, threadIdx.x % kWarpSize + delta);
}

uint64_t shuffle_xor(unsigned mask, uint64_t bits, unsigned lane_mask) {
  return shuffle("__shfl_xor_sync", mask, bits, (threadIdx.x % kWarpSize) ^ lane_mask);
}

size_t launches(const std::string& kernel) {
  const auto found = launch_counts().find(kernel);
  return found == launch_counts().end() ? 0 : found->second;
}

}  // namespace cuda_emulator
