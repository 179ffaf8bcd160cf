// write_csv: a table of numbers as a CSV file, for metrics that people plot elsewhere.
//
//   tg::write_csv("out/metrics.csv", {"epoch", "train_loss"}, {{1, 0.61}, {2, 0.43}});
//
// Format (RFC 4180): one header line, then one line per row, fields separated by commas, lines
// ended by '\n'. Numbers are written in the shortest form that reads back to the same double
// (std::to_chars), so 0.1 is "0.1", 3.0 is "3" and nothing is lost. NaN, meaning "not measured",
// is an empty field: pandas, R and spreadsheets all read an empty numeric field as missing,
// whereas "nan" is text to a spreadsheet. Infinities are written as "inf" / "-inf".
//
// The file is written to "<path>.tmp" and then renamed over path, so a reader (or a crash part
// way through) never sees half a file and the previous version survives a failed write.
#pragma once

#include <string>
#include <vector>

namespace tg {

// Throws tg::Error naming the path when a row's width differs from the header's or the file
// cannot be written. A header name with a comma, quote or newline is quoted, quotes doubled.
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows);

// One number as write_csv writes it (shortest round-trip form; "" for NaN).
std::string csv_number(double value);

}  // namespace tg
