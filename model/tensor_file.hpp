#pragma once
// The chat tensor file (model.pt and friends): named tensors in a format we
// own, read as hostile input.
//
// Layout, all integers little-endian:
//   magic    8 bytes "CHATTNSR"
//   version  u32 (1)
//   count    u32 number of tensors
//   hbytes   u64 size of the header entries that follow
//   entries  count x { u32 name_len, name, u8 dtype, u8 ndim, u64 dims[ndim],
//                      u64 offset, u64 nbytes }   offsets relative to data
//   data     the tensors' raw bytes, back to back in entry order
//   checksum u64 FNV-1a 64 over every byte before it

#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace chat::model {

/// A tensor and the name it is stored under.
using named_tensors = std::vector<std::pair<std::string, at::Tensor>>;

/// Writes the tensors (copied to CPU, contiguous) to `path` and fsyncs it.
/// Supported dtypes: float32/16, bfloat16, float64, int64/32, uint8, bool.
void write_tensor_file(const std::string& path, const named_tensors& tensors);

/// Reads a tensor file onto the CPU. Throws std::runtime_error saying what
/// was found, what was expected and what to do on a wrong magic or version,
/// a truncated file, an inconsistent header or a checksum mismatch; never
/// allocates more than the file's size.
named_tensors read_tensor_file(const std::string& path);

}  // namespace chat::model
