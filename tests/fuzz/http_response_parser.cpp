// tests/fuzz/http_response_parser.cpp — libFuzzer target: the response parser gives the same
// events, heads, bodies and errors whether the bytes come whole, split in two, or one by one,
// with some responses announced as answers to HEAD (expect_no_body()) as the input's 4th byte
// says. The property and the input layout: http_parser_harness.hpp.
#include <cstddef>
#include <cstdint>

#include "http_parser_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return corio::fuzz::check_split_invariance(corio::http::detail::parser::kind::response, data, size);
}
