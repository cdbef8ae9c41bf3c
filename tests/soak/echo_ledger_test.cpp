// tests/soak/echo_ledger_test.cpp — the echo soak's byte accounting (echo_ledger.hpp): the
// figure "bytes lost" printed by scripts/soak.sh is only as good as this, so every way an echo
// can go wrong must show up in lost(), and a connection cut on purpose must not.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "soak/echo_ledger.hpp"

namespace {

// The stream's bytes [offset, offset + size) as a string.
std::string stream(std::uint64_t seed, std::uint64_t offset, std::size_t size) {
  std::string s(size, '\0');
  soak::fill_pattern(seed, offset, s);
  return s;
}

// A ledger that has written `size` bytes in one write_all, which returned.
soak::echo_ledger after_writing(std::uint64_t seed, std::size_t size) {
  soak::echo_ledger ledger(seed);
  ledger.begin_write(size);
  ledger.end_write();
  return ledger;
}

// The ledger's three figures, checked together.
void expect_figures(const soak::echo_ledger& ledger, std::uint64_t echoed, std::uint64_t corrupt, std::uint64_t lost) {
  EXPECT_EQ(ledger.echoed(), echoed);
  EXPECT_EQ(ledger.corrupt(), corrupt);
  EXPECT_EQ(ledger.lost(), lost);
}

TEST(echo_ledger, a_complete_echo_in_pieces_loses_nothing) {
  soak::echo_ledger ledger = after_writing(7, 1000);
  const std::string echo = stream(7, 0, 1000);
  ledger.check_echo(std::string_view(echo).substr(0, 1));
  ledger.check_echo(std::string_view(echo).substr(1, 600));
  ledger.check_echo(std::string_view(echo).substr(601));
  ledger.finish(soak::ending::clean);
  expect_figures(ledger, 1000u, 0u, 0u);
}

TEST(echo_ledger, a_clean_connection_that_misses_its_tail_lost_the_tail) {
  soak::echo_ledger ledger = after_writing(7, 1000);
  ledger.check_echo(stream(7, 0, 990));
  ledger.finish(soak::ending::clean);
  EXPECT_EQ(ledger.lost(), 10u);
}

TEST(echo_ledger, a_connection_that_failed_counts_what_it_sent_and_never_got_back) {
  soak::echo_ledger ledger = after_writing(7, 1000);
  ledger.check_echo(stream(7, 0, 400));
  ledger.finish(soak::ending::failed);
  EXPECT_EQ(ledger.lost(), 600u);
}

TEST(echo_ledger, a_cancelled_or_reset_connection_counts_only_what_it_confirmed) {
  for (const soak::ending cut : {soak::ending::cancelled, soak::ending::reset}) {
    soak::echo_ledger ledger = after_writing(7, 1000);
    ledger.begin_write(500);  // write_all in progress when the cut came
    ledger.check_echo(stream(7, 0, 1200));
    ledger.finish(cut);
    EXPECT_EQ(ledger.echoed(), 1200u) << "echoes of a write still in progress are fine";
    EXPECT_EQ(ledger.corrupt(), 0u);
    EXPECT_EQ(ledger.lost(), 0u);
  }
}

TEST(echo_ledger, a_byte_out_of_order_is_lost_and_corrupt_even_on_a_cancelled_connection) {
  soak::echo_ledger ledger = after_writing(7, 100);
  std::string echo = stream(7, 0, 100);
  std::swap(echo[10], echo[11]);
  ASSERT_NE(echo[10], echo[11]) << "pick two bytes that differ";
  ledger.check_echo(echo);
  ledger.finish(soak::ending::cancelled);
  EXPECT_EQ(ledger.echoed(), 10u);
  EXPECT_EQ(ledger.corrupt(), 90u) << "after the first bad byte nothing can be trusted";
  EXPECT_EQ(ledger.lost(), 90u);
}

TEST(echo_ledger, bytes_of_another_connection_do_not_match) {
  soak::echo_ledger ledger = after_writing(7, 64);
  ledger.check_echo(stream(8, 0, 64));
  ledger.finish(soak::ending::reset);
  EXPECT_EQ(ledger.echoed(), 0u);
  EXPECT_GE(ledger.lost(), 63u);  // a byte of the other stream may equal ours by chance
}

TEST(echo_ledger, a_shifted_echo_does_not_match) {
  soak::echo_ledger ledger = after_writing(7, 64);
  ledger.check_echo(stream(7, 1, 63));  // the first byte went missing
  ledger.finish(soak::ending::cancelled);
  EXPECT_GT(ledger.lost(), 0u);
}

TEST(echo_ledger, an_echo_of_bytes_never_written_is_corrupt) {
  soak::echo_ledger ledger = after_writing(7, 10);
  ledger.check_echo(stream(7, 0, 12));  // the right pattern, but we never sent the last two
  ledger.finish(soak::ending::clean);
  EXPECT_EQ(ledger.echoed(), 10u);
  EXPECT_EQ(ledger.corrupt(), 2u);
  EXPECT_EQ(ledger.lost(), 0u) << "every sent byte came back; the extra ones are corrupt, not lost";
}

TEST(echo_ledger, a_clean_connection_with_a_wrong_byte_lost_everything_from_it_on) {
  soak::echo_ledger ledger = after_writing(7, 100);
  std::string echo = stream(7, 0, 100);
  echo[50] = static_cast<char>(echo[50] ^ 1);
  ledger.check_echo(echo);
  ledger.finish(soak::ending::clean);
  expect_figures(ledger, 50u, 50u, 50u);
}

TEST(echo_ledger, an_open_connection_has_lost_nothing_yet) {
  soak::echo_ledger ledger = after_writing(7, 10);
  EXPECT_EQ(ledger.ended_as(), soak::ending::open);
  EXPECT_EQ(ledger.lost(), 0u);
}

TEST(echo_ledger, streams_of_nearby_seeds_are_not_shifted_copies_of_each_other) {
  // With a pattern of (seed + offset), seed 8 would be seed 7 shifted by one byte.
  const std::string a = stream(7, 1, 4096);
  const std::string b = stream(8, 0, 4096);
  std::size_t equal = 0;
  for (std::size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i] ? 1 : 0;
  EXPECT_LT(equal, 64u);  // about 16 by chance (1 in 256)
}

}  // namespace
