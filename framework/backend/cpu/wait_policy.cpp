// The OpenMP wait policy, chosen for the user: threads that wait for work spin briefly, then
// sleep (GOMP_SPINCOUNT=1000).
//
// libgomp's default lets an idle thread spin for 300,000 iterations (milliseconds) before it
// sleeps. On a busy machine the spinning thread takes the core that its sibling, or another
// program, needs: fashion_mlp ran 10x slower with its default 2 threads than with 1 beside one
// busy process, and an MLP step 19x (bench/README.md, "Beside a busy core"). Sleeping at once
// (OMP_WAIT_POLICY=PASSIVE, the choice until 2026-12-03) cures that, but then every parallel loop
// pays a wake-up, which some hosts make dear: on one, a loop over 65,536 floats took 9.5 us on
// one thread, 17-19 us on two spinning threads and 75 us on two with the worker asleep, and a
// G2P Transformer step ran 1.2-1.8x slower at 2 threads than with a short spin. 1,000 turns
// (libgomp's own count for a machine with more threads than cores) is a few microseconds: it
// bridges the gap between an op's loops on a quiet machine, and beside a busy process it cost
// 1.2-1.5x against sleeping at once, where 10,000 turns cost 3-6x (bench/NOTES.md, fourteenth
// session).
//
// libgomp reads the policy from the environment only, once, in its own constructor, which runs
// before any code of the program: setting the variable later (even in a .preinit_array entry,
// whose environment the C library replaces) changes nothing. So when the user has set neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT, the program sets GOMP_SPINCOUNT=1000 and executes itself
// again, once, before any other constructor of its own (priority 101): same pid, same
// arguments, a millisecond or two. Setting either variable (OMP_WAIT_POLICY=passive to sleep at
// once, active to spin) leaves the program alone.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

// Referenced by the link (CMake adds -u tapegrad_wait_policy_anchor) so that this object is
// always part of a program linked against the static library.
extern "C" {
extern int tapegrad_wait_policy_anchor;
int tapegrad_wait_policy_anchor = 0;
}

namespace {

__attribute__((constructor(101))) void spin_briefly_while_waiting() {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
  // POSIX reads: this runs before the program's other constructors (iostreams included).
  std::string cmdline;
  const int file = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (file < 0) return;
  char buffer[4096];
  for (ssize_t got; (got = read(file, buffer, sizeof buffer)) > 0;)
    cmdline.append(buffer, static_cast<size_t>(got));
  close(file);
  std::vector<std::string> args;
  for (size_t start = 0; start < cmdline.size();) {
    const size_t end = cmdline.find('\0', start);
    args.push_back(cmdline.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (args.empty()) return;
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  // execv failed (no /proc): run on with libgomp's default; the variable stays set for children.
}

}  // namespace
