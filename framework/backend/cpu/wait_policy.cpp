// The OpenMP wait policy, chosen for the user: threads that wait for work sleep (PASSIVE).
//
// libgomp's default lets an idle thread spin for 300,000 iterations (milliseconds) before it
// sleeps. On a quiet machine that saves a wake-up between two parallel loops; on a busy one the
// spinning thread takes the core that its sibling, or another program, needs: fashion_mlp ran
// 10x slower with its default 2 threads than with 1 beside one busy process (bench/README.md).
// Loops under 32,768 elements run on one thread anyway, so a parallel loop is long enough to
// pay for a wake-up of a few microseconds.
//
// libgomp reads the policy from the environment only, once, in its own constructor, which runs
// before any code of the program: setting the variable later (even in a .preinit_array entry,
// whose environment the C library replaces) changes nothing. So when the user has set neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT, the program sets OMP_WAIT_POLICY=PASSIVE and executes
// itself again, once, before any other constructor of its own (priority 101): same pid, same
// arguments, a millisecond or two. Setting either variable (OMP_WAIT_POLICY=active to spin)
// leaves the program alone.
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

__attribute__((constructor(101))) void sleep_while_waiting() {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
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
