#pragma once

#include "storage/safety.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace chat::safety {

/// Which text a rule screens.
enum class direction { input, output };

/// Why a rule cannot be stored: the field at fault and a message.
struct rule_error {
  std::string field;
  std::string message;
};

/// What is wrong with a rule (bad kind or target, empty or too long
/// pattern, a regex RE2 refuses), or nullopt when it is fine.
std::optional<rule_error> rule_problem(const std::string& kind,
                                        const std::string& pattern,
                                        const std::string& applies_to);

/// The operator's rules, compiled: phrases normalised (text_normalizer),
/// regexes as RE2 (linear time, no backtracking) matched case-insensitively
/// against normalised text. Immutable, so requests share one set while an
/// admin builds the next.
class filter_set {
public:
  filter_set();
  /// Rules that do not compile are left out (rule_problem refuses them on
  /// the way in, so only a hand-edited database has them).
  explicit filter_set(const std::vector<storage::filter_rule>& rules);
  ~filter_set();
  filter_set(const filter_set&) = delete;
  filter_set& operator=(const filter_set&) = delete;

  /// Id of the first rule for `d` that matches `normalized` text.
  std::optional<std::string> match(std::string_view normalized,
                                   direction d) const;

  /// normalize(text), then match.
  std::optional<std::string> screen(std::string_view text, direction d) const;

  /// Whether any rule screens `d`.
  bool screens(direction d) const;

  /// Whether a regex screens `d` (its matches have no known length).
  bool has_regex(direction d) const;

  /// Length in code points of the longest normalised phrase for `d`.
  std::size_t longest_phrase(direction d) const;

private:
  struct compiled_rule {
    std::string id;
    bool input = false;
    bool output = false;
    std::string phrase;
    std::unique_ptr<re2::RE2> regex;

    bool applies(direction d) const {
      return d == direction::input ? input : output;
    }
  };
  std::vector<compiled_rule> rules_;
};

} // namespace chat::safety
