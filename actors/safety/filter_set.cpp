#include "actors/safety/filter_set.hpp"

#include "actors/safety/text_normalizer.hpp"
#include "log/log.hpp"

#include <re2/re2.h>

namespace chat::safety {

namespace {

constexpr std::size_t max_pattern_bytes = 1000;
/// Memory one compiled regex may use; RE2 refuses larger programs.
constexpr std::int64_t max_regex_memory = 1 << 20;

std::unique_ptr<re2::RE2> compile_regex(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  options.set_max_mem(max_regex_memory);
  return std::make_unique<re2::RE2>(pattern, options);
}

} // namespace

std::optional<rule_error> rule_problem(const std::string& kind,
                                        const std::string& pattern,
                                        const std::string& applies_to) {
  if (kind != "phrase" && kind != "regex")
    return rule_error{"kind", "'kind' must be \"phrase\" or \"regex\""};
  if (applies_to != "input" && applies_to != "output" && applies_to != "both")
    return rule_error{"applies_to", "'applies_to' must be \"input\", "
                                    "\"output\" or \"both\""};
  if (pattern.size() > max_pattern_bytes)
    return rule_error{"pattern", "'pattern' must be at most "
                                   + std::to_string(max_pattern_bytes)
                                   + " bytes"};
  if (kind == "phrase" && normalize(pattern).empty())
    return rule_error{"pattern", "'pattern' must not be empty"};
  if (kind == "regex") {
    if (pattern.empty())
      return rule_error{"pattern", "'pattern' must not be empty"};
    auto re = compile_regex(pattern);
    if (!re->ok())
      return rule_error{"pattern",
                        "'pattern' is not a valid RE2 regular expression: "
                          + re->error()};
    if (re2::RE2::FullMatch("", *re))
      return rule_error{"pattern", "'pattern' must not match the empty text"};
  }
  return std::nullopt;
}

filter_set::filter_set(const std::vector<storage::filter_rule>& rules) {
  for (const auto& r : rules) {
    if (rule_problem(r.kind, r.pattern, r.applies_to)) {
      log::warn("safety", "filter rule skipped: it does not compile")
        .kv("rule", r.id);
      continue;
    }
    compiled_rule c;
    c.id = r.id;
    c.input = r.applies_to != "output";
    c.output = r.applies_to != "input";
    if (r.kind == "phrase")
      c.phrase = normalize(r.pattern);
    else
      c.regex = compile_regex(r.pattern);
    rules_.push_back(std::move(c));
  }
}

filter_set::filter_set() = default;
filter_set::~filter_set() = default;

std::optional<std::string> filter_set::match(std::string_view normalized,
                                             direction d) const {
  for (const auto& r : rules_) {
    if (!r.applies(d))
      continue;
    bool hit = r.regex ? re2::RE2::PartialMatch(
                           re2::StringPiece(normalized.data(),
                                            normalized.size()),
                           *r.regex)
                       : normalized.find(r.phrase) != std::string_view::npos;
    if (hit)
      return r.id;
  }
  return std::nullopt;
}

std::optional<std::string> filter_set::screen(std::string_view text,
                                              direction d) const {
  if (!screens(d))
    return std::nullopt;
  return match(normalize(text), d);
}

bool filter_set::screens(direction d) const {
  for (const auto& r : rules_)
    if (r.applies(d))
      return true;
  return false;
}

bool filter_set::has_regex(direction d) const {
  for (const auto& r : rules_)
    if (r.applies(d) && r.regex)
      return true;
  return false;
}

std::size_t filter_set::longest_phrase(direction d) const {
  std::size_t longest = 0;
  for (const auto& r : rules_)
    if (r.applies(d) && !r.regex)
      longest = std::max(longest, code_points(r.phrase));
  return longest;
}

} // namespace chat::safety
