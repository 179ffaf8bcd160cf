// The clock the benchmarks read: the wall clock, or with --clock cpu the process's CPU time.
//
// On a machine shared with other work, a 1-thread measurement's CPU time is what it costs
// without the time it spent waiting for a core (caches shared with the others still slow it);
// with more threads it sums them, so it is no measure of speed there.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace bench {

inline bool cpu_clock = false;  // set from --clock

// --clock's value: "cpu" or "wall". Anything else is reported on stderr; returns false then.
inline bool set_clock(const std::string& value, const char* program) {
  if (value != "cpu" && value != "wall") {
    std::fprintf(stderr, "%s: --clock: expected cpu or wall, got '%s'\n", program, value.c_str());
    return false;
  }
  cpu_clock = value == "cpu";
  return true;
}

inline double now_seconds() {
  if (cpu_clock) {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double seconds_since(double start) { return now_seconds() - start; }

}  // namespace bench
