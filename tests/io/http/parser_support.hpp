// tests/io/http/parser_support.hpp — what the parser tests share: run a parser over pieces
// of input (whole, or split at every byte) and collect what it reported.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "io/http/parser.hpp"
using corio::http::detail::message_head;
using corio::http::detail::parse_error;
using corio::http::detail::parse_limits;
using corio::http::detail::parser;
using event = parser::event;
using kind = parser::kind;

struct parsed_message {
  message_head head;
  std::string body;
};

/// Everything one run of the parser produced: the messages, and how it ended.
struct outcome {
  std::vector<parsed_message> messages;
  parse_error error = parse_error::none;
  int heads_seen = 0;

  [[nodiscard]] bool operator==(const outcome& o) const {
    if (messages.size() != o.messages.size() || error != o.error || heads_seen != o.heads_seen) return false;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const message_head& a = messages[i].head;
      const message_head& b = o.messages[i].head;
      if (a.method != b.method || a.target != b.target || a.status != b.status || a.reason != b.reason ||
          a.version_major != b.version_major || a.version_minor != b.version_minor ||
          a.content_length != b.content_length || a.chunked != b.chunked || a.keep_alive != b.keep_alive ||
          a.upgrade != b.upgrade || messages[i].body != o.messages[i].body || a.headers.size() != b.headers.size()) {
        return false;
      }
      auto ai = a.headers.begin();
      for (auto bi = b.headers.begin(); bi != b.headers.end(); ++ai, ++bi) {
        if (ai->name != bi->name || ai->value != bi->value) return false;
      }
    }
    return true;
  }
};

struct run_options {
  parse_limits limits{};
  bool finish = false;          // signal EOF after the last piece
  int no_body_responses = 0;    // how many leading responses answer HEAD requests
  std::size_t split_stride = 1; // run_every_split: cut at every n-th byte (big inputs: n > 1)
};

/// Feeds `pieces` in order, the way a connection would, and records what came out.
inline outcome run(kind k, const std::vector<std::string_view>& pieces, run_options opt = {}) {
  parser p(k, opt.limits);
  outcome out;
  int no_body = opt.no_body_responses;
  if (no_body > 0) {
    p.expect_no_body();
    --no_body;
  }
  auto on_message = [&] {
    out.messages.push_back({p.head(), p.body()});
    p.next_message();
    if (no_body > 0) {
      p.expect_no_body();
      --no_body;
    }
  };
  for (std::string_view piece : pieces) {
    for (;;) {
      const auto [consumed, what] = p.feed(piece);
      EXPECT_LE(consumed, piece.size());
      piece.remove_prefix(consumed);
      if (what == event::head_complete) {
        ++out.heads_seen;
        continue;
      }
      if (what == event::message_complete) {
        on_message();
        continue;
      }
      if (what == event::error) {
        out.error = p.error();
        EXPECT_FALSE(p.error_reason().empty());
        return out;
      }
      EXPECT_TRUE(piece.empty()) << "need_more must mean everything was consumed";
      break;
    }
  }
  if (opt.finish) {
    const event last = p.finish();
    if (last == event::message_complete) on_message();
    if (last == event::error) out.error = p.error();
  }
  return out;
}

inline outcome run_whole(kind k, std::string_view input, run_options opt = {}) { return run(k, {input}, opt); }

/// Parses `input` whole, then split in two at every byte (every opt.split_stride-th byte, and
/// the last one), then byte by byte, and checks that every way gives the same outcome; returns it.
inline outcome run_every_split(kind k, std::string_view input, run_options opt = {}) {
  const outcome whole = run_whole(k, input, opt);
  for (std::size_t cut = 0; cut <= input.size(); cut = cut == input.size() ? cut + 1 : std::min(cut + opt.split_stride, input.size())) {
    const outcome split = run(k, {input.substr(0, cut), input.substr(cut)}, opt);
    EXPECT_TRUE(split == whole) << "split at byte " << cut << " of:\n" << input;
    if (!(split == whole)) break;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  EXPECT_TRUE(run(k, bytes, opt) == whole) << "byte by byte:\n" << input;
  return whole;
}

inline std::string header_value(const message_head& h, std::string_view name) {
  auto v = h.headers.get(name);
  return v ? std::string(*v) : std::string("<missing>");
}
