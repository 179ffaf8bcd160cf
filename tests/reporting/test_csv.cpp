#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "examples/reporting/csv.h"
#include "framework/error.h"
#include "picture_checks.h"

using picture_checks::TempDir;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

constexpr double missing = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("write_csv writes the header and the rows exactly") {
  TempDir dir("csv_exact");
  const auto path = (dir.path / "metrics.csv").string();
  tg::write_csv(path, {"epoch", "loss", "accuracy"},
                {{1, 0.1, 0.75}, {2, 2.5e-7, missing}, {3, -inf, 1}});
  CHECK(read_file(path) ==
        "epoch,loss,accuracy\n"
        "1,0.1,0.75\n"
        "2,2.5e-07,\n"
        "3,-inf,1\n");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("write_csv numbers read back to the same double") {
  for (double value : {0.1, 1.0 / 3.0, 12345.678901234567, -0.0625, 1e300, 5e-324}) {
    const std::string text = tg::csv_number(value);
    CHECK(std::strtod(text.c_str(), nullptr) == value);  // stod throws on denormals
  }
  CHECK(tg::csv_number(3.0) == "3");
  CHECK(tg::csv_number(missing) == "");
  CHECK(tg::csv_number(inf) == "inf");
}

TEST_CASE("write_csv quotes header names holding commas or quotes") {
  TempDir dir("csv_quotes");
  const auto path = (dir.path / "t.csv").string();
  tg::write_csv(path, {"a,b", "say \"hi\"", "plain"}, {});
  CHECK(read_file(path) == "\"a,b\",\"say \"\"hi\"\"\",plain\n");
}

TEST_CASE("write_csv replaces an existing file") {
  TempDir dir("csv_replace");
  const auto path = (dir.path / "t.csv").string();
  tg::write_csv(path, {"x"}, {{1}, {2}, {3}});
  tg::write_csv(path, {"y"}, {{4}});
  CHECK(read_file(path) == "y\n4\n");
}

TEST_CASE("write_csv errors name the path") {
  TempDir dir("csv_errors");
  const auto path = (dir.path / "t.csv").string();
  CHECK_THROWS_WITH_AS(
      tg::write_csv(path, {"a", "b"}, {{1, 2}, {3}}),
      doctest::Contains(
          ("write_csv '" + path + "': row 1 has 1 values but the header has 2 columns").c_str()),
      tg::Error);
  CHECK_FALSE(std::filesystem::exists(path));  // checked before anything is written
  const auto missing = (dir.path / "no_such_dir" / "t.csv").string();
  CHECK_THROWS_WITH_AS(tg::write_csv(missing, {"a"}, {{1}}),
                       doctest::Contains(("cannot open '" + missing + ".tmp'").c_str()), tg::Error);
}
