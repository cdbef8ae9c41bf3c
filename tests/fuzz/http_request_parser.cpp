// tests/fuzz/http_request_parser.cpp — libFuzzer target: the request parser gives the same
// events, heads, bodies and errors whether the bytes come whole, split in two, or one by one.
// The property and the input layout: http_parser_harness.hpp.
#include <cstddef>
#include <cstdint>

#include "http_parser_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return corio::fuzz::check_split_invariance(corio::http::detail::parser::kind::request, data, size);
}
