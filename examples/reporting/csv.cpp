#include "examples/reporting/csv.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "framework/error.h"

namespace tg {
namespace {

// RFC 4180: a field holding a comma, quote or line break is quoted, inner quotes doubled.
std::string quoted_if_needed(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

std::string csv_number(double value) {
  if (std::isnan(value)) return "";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];  // the shortest round-trip form of a double needs at most 24 characters
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (error != std::errc{}) fail("csv_number: cannot format ", value);
  return std::string(buffer, end);
}

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    check(rows[i].size() == header.size(), "write_csv '", path, "': row ", i, " has ",
          rows[i].size(), " values but the header has ", header.size(), " columns");
  }
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    check(file.good(), "write_csv: cannot open '", temporary,
          "' for writing (does the directory of '", path, "' exist and is it writable?)");
    for (size_t column = 0; column < header.size(); ++column) {
      file << (column ? "," : "") << quoted_if_needed(header[column]);
    }
    file << '\n';
    for (const auto& row : rows) {
      for (size_t column = 0; column < row.size(); ++column) {
        file << (column ? "," : "") << csv_number(row[column]);
      }
      file << '\n';
    }
    file.close();
    if (!file) {
      std::remove(temporary.c_str());
      fail("write_csv: writing '", temporary, "' failed (disk full?); '", path, "' is unchanged");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    fail("write_csv: cannot rename '", temporary, "' to '", path, "': ", error.message());
  }
}

}  // namespace tg
