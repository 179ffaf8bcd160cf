// Colours for plots: a perceptual colormap for values and a categorical palette for classes.
//
// viridis(t) maps t in [0, 1] from dark purple through blue and green to yellow. It is the
// matplotlib default (van der Walt and Smith, 2015) because its lightness rises steadily, so
// equal steps in value look like equal steps in colour, it reads correctly in grayscale, and
// it stays distinct for the common forms of colour blindness. A rainbow map does none of this:
// its bright yellow and cyan bands invent edges the data does not have.
//
// We store nine samples of matplotlib's viridis (t = 0, 1/8, ..., 1) and interpolate linearly
// in RGB between them, which is close to matplotlib's 256-entry table for plotting purposes.
//
// categorical_color(i) is matplotlib's "tab10" palette (Tableau 10): ten hues of similar
// weight, chosen to be told apart at a glance. Class i gets colour i mod 10.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>

#include "examples/reporting/image.h"

namespace tg {

inline Color viridis(float t) {
  static constexpr std::array<Color, 9> samples = {{
      {68, 1, 84},     // t = 0     #440154
      {72, 40, 120},   // t = 0.125 #482878
      {62, 73, 137},   // t = 0.25  #3E4989
      {49, 104, 142},  // t = 0.375 #31688E
      {38, 130, 142},  // t = 0.5   #26828E
      {31, 158, 137},  // t = 0.625 #1F9E89
      {53, 183, 121},  // t = 0.75  #35B779
      {109, 205, 89},  // t = 0.875 #6DCD59
      {253, 231, 37},  // t = 1     #FDE725
  }};
  if (!(t > 0.0f)) return samples.front();  // also catches NaN
  if (t >= 1.0f) return samples.back();
  const float position = t * static_cast<float>(samples.size() - 1);
  const int below = static_cast<int>(std::floor(position));
  return mix(samples[below], samples[below + 1], position - static_cast<float>(below));
}

inline Color categorical_color(int index) {
  static constexpr std::array<Color, 10> tab10 = {{
      {31, 119, 180},   // blue
      {255, 127, 14},   // orange
      {44, 160, 44},    // green
      {214, 39, 40},    // red
      {148, 103, 189},  // purple
      {140, 86, 75},    // brown
      {227, 119, 194},  // pink
      {127, 127, 127},  // gray
      {188, 189, 34},   // olive
      {23, 190, 207},   // cyan
  }};
  const int count = static_cast<int>(tab10.size());
  return tab10[((index % count) + count) % count];
}

// Paler and deeper versions of a colour, for backgrounds (regions) and marks drawn over them.
inline Color lighten(Color c, float amount) { return mix(c, colors::white, amount); }
inline Color darken(Color c, float amount) { return mix(c, colors::black, amount); }

}  // namespace tg
