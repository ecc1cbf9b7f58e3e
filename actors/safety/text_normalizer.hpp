#pragma once

#include <string>
#include <string_view>

namespace chat::safety {

/// `utf8` in the form filter rules match against: Unicode NFKC with case
/// folding (NFKC_Casefold), so full-width, compatibility and mixed-case
/// variants of a phrase compare equal to its plain lowercase form. Invalid
/// UTF-8 becomes U+FFFD; default-ignorable characters (zero-width joiners,
/// soft hyphens) are removed.
std::string normalize(std::string_view utf8);

/// Code points in valid UTF-8 `text` (continuation bytes not counted).
std::size_t code_points(std::string_view text);

} // namespace chat::safety
