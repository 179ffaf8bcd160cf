#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "examples/reporting/progress.h"

using namespace tg;

static std::string read_all(FILE* file) {
  std::rewind(file);
  std::string text;
  char buffer[256];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  return text;
}

TEST_CASE("progress: the line shows steps, metrics, throughput and times") {
  FILE* out = std::tmpfile();
  ProgressBar bar("epoch 1/2", 4, out, /*interactive=*/false);
  bar.step(32, {{"loss", 0.5}});
  bar.step(32, {{"loss", 0.25}});
  const std::string text =
      bar.line({{"loss", 0.25}, {"acc", 0.875}, {"tokens/s", 2956.2094}, {"lr", 1.5e-5}});
  CHECK(text.find("epoch 1/2 [##########..........] 2/4") == 0);
  CHECK(text.find("loss 0.25 ") != std::string::npos);  // four significant digits at most
  CHECK(text.find("tokens/s 2956 ") != std::string::npos);
  CHECK(text.find("lr 1.5e-05 ") != std::string::npos);
  CHECK(text.find("acc 87.5%") != std::string::npos);
  CHECK(text.find("samples/s") != std::string::npos);
  CHECK(text.find("<") != std::string::npos);
  std::fclose(out);
}

TEST_CASE("progress: plain output prints one line per tenth, and the last line once") {
  FILE* out = std::tmpfile();
  ProgressBar bar("train", 100, out, /*interactive=*/false);
  for (int i = 0; i < 100; ++i) bar.step(1, {{"loss", 1.0 / (i + 1)}});
  bar.finish({{"loss", 0.01}});
  bar.finish();  // a second finish prints nothing
  const std::string text = read_all(out);
  int lines = 0;
  for (char c : text) lines += c == '\n';
  CHECK(lines == 10);  // nine tenths on the way, then the final line
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("100/100") != std::string::npos);
  std::fclose(out);
}

TEST_CASE("progress: interactive output redraws in place") {
  FILE* out = std::tmpfile();
  ProgressBar bar("train", 3, out, /*interactive=*/true);
  bar.step(1);
  bar.step(1);
  bar.step(1);
  bar.finish();
  const std::string text = read_all(out);
  CHECK(text.find('\r') != std::string::npos);
  CHECK(text.back() == '\n');
  std::fclose(out);
}

TEST_CASE("format_duration") {
  CHECK(format_duration(0) == "00:00");
  CHECK(format_duration(65) == "01:05");
  CHECK(format_duration(3723) == "1:02:03");
}
