#include "kofu/population/seal_image.hpp"

#include <array>

namespace kofu::population {
namespace {

constexpr int size = 32;
constexpr int row_bytes = size / 8;

std::uint32_t crc32(const std::string& bytes, std::size_t from) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFU;
  for (std::size_t i = from; i < bytes.size(); ++i) {
    c = table[(c ^ static_cast<unsigned char>(bytes[i])) & 0xFF] ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFFU;
}

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.append(type, 4);
  out.append(data);
  put32(out, crc32(out, start));
}

}  // namespace

std::string seal_png(std::uint64_t pattern, std::uint64_t index) {
  // Pixels: 1 = white, 0 = black (bit depth 1, grey). Start white, draw in black.
  // The ring is the same for everyone: drawn once.
  static const std::array<std::array<bool, size>, size> ring = [] {
    std::array<std::array<bool, size>, size> r{};
    const int c2 = size - 1;  // centre at (15.5, 15.5) in doubled coordinates
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const int dx = 2 * x - c2, dy = 2 * y - c2;
        const int d2 = dx * dx + dy * dy;
        r[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] =
            d2 >= 26 * 26 && d2 <= 30 * 30;
      }
    }
    return r;
  }();
  std::array<std::array<bool, size>, size> ink = ring;
  for (int bit = 0; bit < 64; ++bit) {
    const int x = 12 + bit % 8, y = 10 + bit / 8;
    ink[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] = ((pattern >> bit) & 1U) != 0;
  }
  for (int bit = 0; bit < 16;
       ++bit) {  // the index, so that images stay distinct even if patterns met
    const int x = 8 + bit, y = 20 + (bit / 16);
    ink[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] = ((index >> bit) & 1U) != 0;
  }
  for (int bit = 16; bit < 40; ++bit) {
    const int x = 4 + (bit - 16), y = 22;
    ink[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] = ((index >> bit) & 1U) != 0;
  }

  std::string raw;  // filter byte 0 + packed row, per row
  raw.reserve(static_cast<std::size_t>(size * (row_bytes + 1)));
  for (int y = 0; y < size; ++y) {
    raw.push_back('\0');
    for (int b = 0; b < row_bytes; ++b) {
      unsigned byte = 0;
      for (int k = 0; k < 8; ++k) {
        const bool black = ink[static_cast<std::size_t>(y)][static_cast<std::size_t>(b * 8 + k)];
        byte = (byte << 1) | (black ? 0U : 1U);
      }
      raw.push_back(static_cast<char>(byte));
    }
  }

  // zlib stream with one stored deflate block.
  std::string z;
  z.push_back(0x78);
  z.push_back(0x01);
  z.push_back(0x01);  // BFINAL=1, BTYPE=00 (stored)
  const auto len = static_cast<std::uint16_t>(raw.size());
  z.push_back(static_cast<char>(len & 0xFF));
  z.push_back(static_cast<char>(len >> 8));
  z.push_back(static_cast<char>(~len & 0xFF));
  z.push_back(static_cast<char>((~len >> 8) & 0xFF));
  z.append(raw);
  std::uint32_t a = 1, b = 0;
  for (const char ch : raw) {
    a = (a + static_cast<unsigned char>(ch)) % 65521U;
    b = (b + a) % 65521U;
  }
  put32(z, (b << 16) | a);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put32(ihdr, size);
  put32(ihdr, size);
  ihdr.push_back(1);     // bit depth
  ihdr.push_back(0);     // grey
  ihdr.append(3, '\0');  // compression, filter, interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  return png;
}

}  // namespace kofu::population
