#pragma once
// The seal impression (印影) of a synthetic resident: a small 1-bit PNG, unique per resident.

#include <cstdint>
#include <string>

namespace kofu::population {

// A 32×32 1-bit grey PNG: a ring (the seal's outline) around an 8×8 block that spells the 64 bits
// of `pattern`, plus a row of `index` bits, so two residents never share an image. Uncompressed
// (stored) deflate: no zlib needed, and the bytes are the same on every machine.
std::string seal_png(std::uint64_t pattern, std::uint64_t index);

}  // namespace kofu::population
