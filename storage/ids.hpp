#pragma once

#include <cstdint>
#include <array>
#include <string>

namespace chat::storage {

/// A new opaque id: `prefix` + '_' + 24 hex digits from OpenSSL's RNG.
std::string new_id(const std::string& prefix);

/// A new API key secret: "sk-chat-" + 48 hex digits (192 random bits).
std::string new_api_key_secret();

/// The part of a key shown in listings: its first 16 characters.
std::string api_key_prefix(const std::string& secret);

/// SHA-256 of `data`.
std::array<unsigned char, 32> sha256(const std::string& data);

/// Lowercase hex of raw bytes.
std::string to_hex(const unsigned char* data, size_t size);

} // namespace chat::storage
