#include "examples/reporting/axis.h"

#include <array>
#include <cmath>
#include <cstdio>

#include "examples/reporting/font.h"
#include "framework/error.h"

namespace tg {

std::vector<double> nice_ticks(double lo, double hi, bool integers_only) {
  check(std::isfinite(lo) && std::isfinite(hi) && lo < hi,
        "nice_ticks: need a finite range with lo < hi, got [", lo, ", ", hi, "]");
  constexpr std::array<int, 3> mantissas = {5, 2, 1};
  constexpr double slack = 1e-9;  // in units of the step: 0.6 / 0.2 may come out as 2.9999999
  const int top_exponent = static_cast<int>(std::floor(std::log10(hi - lo)));
  for (int exponent = top_exponent;; --exponent) {
    for (int mantissa : mantissas) {
      // step = mantissa * 10^exponent; a value is k * mantissa / 10^-exponent when the exponent
      // is negative, because 10^-e is exact and 10^e is not (3 * 0.2 = 0.6000000000000001).
      const double power = std::pow(10.0, std::abs(exponent));
      const double step = exponent >= 0 ? mantissa * power : mantissa / power;
      const bool last = integers_only && step <= 1.0;
      const auto first = static_cast<long long>(std::ceil(lo / step - slack));
      const auto final = static_cast<long long>(std::floor(hi / step + slack));
      if (final - first + 1 >= 4 || last || exponent < top_exponent - 20) {
        std::vector<double> ticks;
        for (long long k = first; k <= final; ++k) {
          ticks.push_back(exponent >= 0 ? static_cast<double>(k) * step
                                        : static_cast<double>(k) * mantissa / power);
        }
        return ticks;
      }
    }
  }
}

std::string format_tick(double value, double step) {
  if (std::abs(value) < 1e-9 * std::abs(step)) value = 0.0;  // no "-0"
  char text[64];
  if (std::abs(value) >= 1e7 || (step > 0 && step < 1e-5)) {
    std::snprintf(text, sizeof text, "%.4g", value);
  } else {
    // Decimals: enough to tell neighbouring ticks apart; step 0.2 needs 1, step 0.05 needs 2.
    const int decimals =
        step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))) : 2;
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
  }
  return text;
}

void draw_text_upward(Image& image, int x, int y, std::string_view text, Color color, int scale) {
  // Turning the text a quarter turn counter-clockwise sends the dot at (u, v) of the upright
  // text (u along the line, v down the glyph) to (v, length - 1 - u): the first character ends
  // up at the bottom and the tops of the glyphs face left.
  scale = std::max(scale, 1);
  const int length = font::text_width(text, 1);
  for (size_t i = 0; i < text.size(); ++i) {
    for (int row = 0; row < font::glyph_height; ++row) {
      for (int column = 0; column < font::glyph_width; ++column) {
        if (!font::dot(text[i], column, row)) continue;
        const int u = static_cast<int>(i) * font::advance + column;
        image.fill_rect(x + row * scale, y + (length - 1 - u) * scale, scale, scale, color);
      }
    }
  }
}

void draw_text_upward_centered(Image& image, int x, int y, std::string_view text, Color color,
                               int scale) {
  draw_text_upward(image, x - font::text_height(text, scale) / 2,
                   y - font::text_width(text, scale) / 2, text, color, scale);
}

}  // namespace tg
