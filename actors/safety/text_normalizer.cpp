#include "actors/safety/text_normalizer.hpp"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <stdexcept>

namespace chat::safety {

std::string normalize(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const auto* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status))
    throw std::runtime_error("ICU NFKC_Casefold data is missing");
  auto text = icu::UnicodeString::fromUTF8(
    icu::StringPiece(utf8.data(), static_cast<std::int32_t>(utf8.size())));
  auto folded = nfkc_cf->normalize(text, status);
  if (U_FAILURE(status))
    throw std::runtime_error("ICU normalisation failed");
  std::string out;
  folded.toUTF8String(out);
  return out;
}

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char ch : text)
    n += (ch & 0xC0) != 0x80;
  return n;
}

} // namespace chat::safety
