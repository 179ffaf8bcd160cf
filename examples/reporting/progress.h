// A progress bar for training loops.
//
//   ProgressBar bar("epoch 3/10", batches.size());
//   for (...) { ...; bar.step(batch_size, {{"loss", loss}, {"acc", accuracy}}); }
//   bar.finish();
//
// On a terminal it redraws one line in place (at most ten times a second):
//   epoch 3/10 [##########..........]  235/469  loss 0.4123  acc 85.2%  9650 samples/s  00:12<00:12
// When the output is not a terminal (a log file, CI) it prints plain lines instead, one every
// tenth of the way, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace tg {

using Metrics = std::vector<std::pair<std::string, double>>;

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total_steps, FILE* out = stdout);
  ProgressBar(std::string label, int64_t total_steps, FILE* out, bool interactive);

  // One step done, covering `samples` samples. Metrics whose name contains "acc" print as %.
  void step(int64_t samples, const Metrics& metrics = {});
  // Completes the line (prints the final state once).
  void finish(const Metrics& metrics = {});

  // The line as it would be printed now (for tests and logs).
  std::string line(const Metrics& metrics) const;

 private:
  using Clock = std::chrono::steady_clock;
  double elapsed_seconds() const;

  std::string label_;
  int64_t total_, done_ = 0, samples_ = 0;
  FILE* out_;
  bool interactive_;
  bool finished_ = false;
  Clock::time_point start_, last_draw_;
  int64_t last_plain_tenth_ = 0;
};

// "01:05", or "1:02:03" past an hour.
std::string format_duration(double seconds);

}  // namespace tg
