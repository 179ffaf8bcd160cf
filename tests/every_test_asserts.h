// Makes a test run that checked nothing fail. CTest runs each discovered test case on its own
// (`<suite> --test-case=<name>`); a name that CTest mangles (a ';' splits it in two) or a test
// registered by mistake matches no case, and doctest would report success. With this listener the
// runner fails when a run selected no test case, or when a test case ran without asserting
// anything (a test that cannot fail is a defect). Included by the test mains only.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace tg::testing {

struct RunCensus {
  bool ran = false;  // false for listings and --help: nothing to judge
  unsigned cases_selected = 0;
  std::vector<std::string> cases_without_asserts;
};

inline RunCensus& run_census() {
  static RunCensus census;
  return census;
}

struct AssertionCensus : doctest::IReporter {
  explicit AssertionCensus(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    run_census().ran = true;
    run_census().cases_selected = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData& data) override { current_ = data.m_name; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    if (stats.numAssertsCurrentTest == 0) run_census().cases_without_asserts.push_back(current_);
  }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  std::string current_;
};

// The runner's exit status: doctest's, or 1 when the run checked nothing.
inline int judge_run(int doctest_status) {
  const RunCensus& census = run_census();
  if (doctest_status != 0 || !census.ran) return doctest_status;
  if (census.cases_selected == 0) {
    std::fprintf(stderr, "no test case matched the filters: a test that runs nothing fails\n");
    return 1;
  }
  for (const std::string& name : census.cases_without_asserts)
    std::fprintf(stderr, "test case \"%s\" ran no assertion: a test that cannot fail fails\n",
                 name.c_str());
  return census.cases_without_asserts.empty() ? 0 : 1;
}

}  // namespace tg::testing

DOCTEST_REGISTER_LISTENER("assertion_census", 1, tg::testing::AssertionCensus);
