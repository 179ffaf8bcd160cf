// A 5x7 bitmap font for plot titles, axis labels and tick numbers: printable ASCII (32..126).
//
// Each glyph is seven rows, top to bottom; in a row, bit 4 is the leftmost of the five columns.
// The shapes follow the classic HD44780 character ROM, which stays legible at scale 1 and looks
// clean when each dot is blown up to a scale x scale square. A character outside the table
// draws as a hollow box, so missing glyphs are visible rather than silently dropped.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tg::font {

inline constexpr int glyph_width = 5;
inline constexpr int glyph_height = 7;
inline constexpr int advance = 6;       // glyph plus one column of spacing
inline constexpr int line_advance = 9;  // glyph plus two rows of spacing

using Glyph = std::array<uint8_t, glyph_height>;

// The rows of c; the hollow box for characters outside printable ASCII.
const Glyph& glyph(char c);
// Whether dot (column, row) of c is set; column in [0, 5), row in [0, 7).
bool dot(char c, int column, int row);

// Size in pixels of text drawn at scale: the widest line, and the line count times the line
// height. The trailing spacing column of the last character is not counted.
int text_width(std::string_view text, int scale = 1);
int text_height(std::string_view text, int scale = 1);

}  // namespace tg::font
