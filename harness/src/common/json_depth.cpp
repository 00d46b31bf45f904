#include "kofu/common/json_depth.hpp"

#include <cstring>

namespace kofu {

std::size_t json_nesting_depth(std::string_view text, std::size_t give_up_above) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p != end) {
    switch (*p) {
      case '"': {
        // Skip the string: to the next quote that is not escaped.
        ++p;
        for (;;) {
          const void* q = std::memchr(p, '"', static_cast<std::size_t>(end - p));
          if (q == nullptr) return deepest;  // unterminated: nothing more nests
          const char* quote = static_cast<const char*>(q);
          std::size_t backslashes = 0;
          for (const char* b = quote; b != p && *(b - 1) == '\\'; --b) ++backslashes;
          p = quote + 1;
          if (backslashes % 2 == 0) break;
        }
        continue;
      }
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > give_up_above) return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
    ++p;
  }
  return deepest;
}

}  // namespace kofu
