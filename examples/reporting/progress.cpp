#include "examples/reporting/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace tg {

std::string format_duration(double seconds) {
  const auto total = static_cast<int64_t>(std::max(0.0, seconds) + 0.5);
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  else
    std::snprintf(text, sizeof text, "%02lld:%02lld", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  return text;
}

ProgressBar::ProgressBar(std::string label, int64_t total_steps, FILE* out)
    : ProgressBar(std::move(label), total_steps, out, isatty(fileno(out)) != 0) {}

ProgressBar::ProgressBar(std::string label, int64_t total_steps, FILE* out, bool interactive)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total_steps, 1)),
      out_(out),
      interactive_(interactive),
      start_(Clock::now()),
      last_draw_(start_) {}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string ProgressBar::line(const Metrics& metrics) const {
  constexpr int kWidth = 20;
  const double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
  const int filled = static_cast<int>(fraction * kWidth);
  std::string text =
      label_ + " [" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, " %*lld/%lld",
                static_cast<int>(std::to_string(total_).size()), static_cast<long long>(done_),
                static_cast<long long>(total_));
  text += buffer;
  for (const auto& [name, value] : metrics) {
    if (name.find("acc") != std::string::npos)
      std::snprintf(buffer, sizeof buffer, "  %s %.1f%%", name.c_str(), 100.0 * value);
    else
      std::snprintf(buffer, sizeof buffer, "  %s %.4g", name.c_str(), value);  // 4 digits
    text += buffer;
  }
  const double elapsed = elapsed_seconds();
  if (elapsed > 0 && samples_ > 0) {
    std::snprintf(buffer, sizeof buffer, "  %.0f samples/s",
                  static_cast<double>(samples_) / elapsed);
    text += buffer;
  }
  const double remaining =
      done_ > 0 ? elapsed * static_cast<double>(total_ - done_) / static_cast<double>(done_) : 0;
  text += "  " + format_duration(elapsed) + "<" + format_duration(remaining);
  return text;
}

void ProgressBar::step(int64_t samples, const Metrics& metrics) {
  ++done_;
  samples_ += samples;
  if (interactive_) {
    const auto now = Clock::now();
    if (done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::fprintf(out_, "\r%s\033[K", line(metrics).c_str());
    std::fflush(out_);
  } else {
    const int64_t tenth = done_ * 10 / total_;
    if (tenth > last_plain_tenth_ && done_ < total_) {
      last_plain_tenth_ = tenth;
      std::fprintf(out_, "%s\n", line(metrics).c_str());
      std::fflush(out_);
    }
  }
}

void ProgressBar::finish(const Metrics& metrics) {
  if (finished_) return;
  finished_ = true;
  std::fprintf(out_, interactive_ ? "\r%s\033[K\n" : "%s\n", line(metrics).c_str());
  std::fflush(out_);
}

}  // namespace tg
