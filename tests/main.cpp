// The doctest runner shared by every test executable. A run that selects no test case, or a test
// case that asserts nothing, fails (tests/every_test_asserts.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "every_test_asserts.h"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  return tg::testing::judge_run(context.run());
}
