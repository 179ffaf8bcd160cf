// The runner of the CUDA suites. Where no GPU is usable it runs nothing and exits 77, which CTest
// (SKIP_RETURN_CODE 77, see tests/CMakeLists.txt) reports as "Skipped": a machine without a GPU
// never counts these tests as passed. Listing the tests still works everywhere, so CTest can
// discover them at build time.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "framework/backend/cuda_status.h"
#include "framework/error.h"
#include "framework/tensor.h"
#include "tests/every_test_asserts.h"

namespace {

constexpr int kSkipped = 77;

// doctest's listing and help options (--list-test-cases, -ltc, -lts, --help) only print.
bool only_asks_questions(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    for (std::string_view query : {"--list", "-l", "--help", "-h", "-?", "--version"})
      if (arg.substr(0, query.size()) == query) return true;
  }
  return false;
}

// The error that asking for the CUDA device gives, which names the runtime's reason.
std::string why_no_gpu() {
  try {
    (void)tg::empty({1}, tg::DType::Float32, tg::Device::CUDA);
  } catch (const tg::Error& error) {
    return error.what();
  }
  return "the CUDA device answered after all";
}

}  // namespace

int main(int argc, char** argv) {
  if (!tg::cuda_available() && !only_asks_questions(argc, argv)) {
    std::printf("CUDA tests skipped: no GPU found (this build has the CUDA backend: %s)\n",
                tg::cuda_built() ? "yes" : "no");
    // Why, in the runtime's words: "CUDA driver version is insufficient for CUDA runtime
    // version" is a GPU whose driver is older than the toolkit this was built with.
    if (tg::cuda_built()) std::printf("%s\n", why_no_gpu().c_str());
    return kSkipped;
  }
  // Printed only when tests run: doctest_discover_tests reads every line a listing prints as a
  // test name, so a line printed there would become a test that runs nothing.
  if (tg::cuda_available() && !only_asks_questions(argc, argv))
    std::printf("CUDA tests on %s\n", tg::cuda_device_name().c_str());
  doctest::Context context(argc, argv);
#if defined(TAPEGRAD_CUDA_EMULATOR)
  // The CPU emulation of CUDA (tests/cuda_emulator) runs each GPU thread as a fiber: the suite
  // "large grids" (tens of millions of threads) would take hours there. It runs on a GPU only.
  context.addFilter("test-suite-exclude", "large grids");
#endif
  return tg::testing::judge_run(context.run());
}
