#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (checked in; rerun after editing).

A seed is a realistic input in the layout the target's header comment describes, so that
libFuzzer starts from messages that reach deep into the code instead of from random bytes.
Each file is named after what it holds. Usage: tests/fuzz/make_seeds.py
"""
import pathlib
import shutil
import struct

HERE = pathlib.Path(__file__).resolve().parent


def write(target, name, data):
    path = HERE / "corpus" / target / name
    path.write_bytes(data)


# --- HTTP parsers: split point (2 bytes), flags (bit 0: small limits), HEAD mask, message ----

def http(split, message, small_limits=False, head_mask=0):
    return struct.pack(">HBB", split, 1 if small_limits else 0, head_mask) + message


REQUESTS = {
    "get_with_headers": (20, b"GET /index.html?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\n"
                             b"User-Agent: corio-fuzz\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n", False),
    "post_content_length": (40, b"POST /submit HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
                                b"Content-Length: 11\r\n\r\nhello world", False),
    "chunked_extensions_trailers": (60, b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        b"5;name=value\r\nhello\r\n6;q=\"x\"\r\n world\r\n0\r\n"
                                        b"Trailer-One: 1\r\nExpires: never\r\n\r\n", False),
    "pipelined_get_post": (30, b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\n"
                               b"Content-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", False),
    "http10_keep_alive": (10, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", False),
    "smuggling_cl_and_te": (45, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n", False),
    "smuggling_two_content_lengths": (33, b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", False),
    "invalid_content_length": (25, b"POST / HTTP/1.1\r\nContent-Length: 1x2\r\n\r\nabc", False),
    "bad_chunk_size": (50, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", False),
    "te_not_chunked_last": (30, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", False),
    "overlong_request_line": (70, b"GET /" + b"a" * 120 + b" HTTP/1.1\r\nHost: a\r\n\r\n", True),
    "too_many_headers": (90, b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(12)) + b"\r\n", True),
    "header_block_too_large": (200, b"GET / HTTP/1.1\r\nCookie: " + b"c" * 300 + b"\r\n\r\n", True),
    "bare_lf": (8, b"GET / HTTP/1.1\nHost: a\n\n", False),
    "obs_fold": (22, b"GET / HTTP/1.1\r\nX-Long: one\r\n two\r\nHost: a\r\n\r\n", False),
    "upgrade_websocket": (35, b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81\x05hello", False),
    "expect_continue": (40, b"PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", False),
    "options_star_absolute_form": (12, b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
                                       b"GET http://example.com:8080/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n", False),
    "truncated_body": (30, b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly a little", False),
    "space_before_colon": (18, b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", False),
}

RESPONSES = {
    "ok_content_length": (17, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!", 0),
    "chunked_trailers": (50, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n"
                             b"0\r\nX-Checksum: abc\r\n\r\n", 0),
    "head_response_then_get": (30, b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
                                   b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0b01),
    "no_content_and_not_modified": (25, b"HTTP/1.1 204 No Content\r\n\r\n"
                                        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 0),
    "close_delimited": (20, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of this until the peer closes", 0),
    "http10_response": (9, b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until close", 0),
    "three_pipelined_middle_head": (44, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                                        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
                                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop", 0b010),
    "continue_then_ok": (28, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0),
    "smuggling_cl_and_te": (39, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0),
    "invalid_status_line": (6, b"HTTP/1.1 2x0 OK\r\n\r\n", 0),
    "overlong_reason": (40, b"HTTP/1.1 200 " + b"R" * 100 + b"\r\nContent-Length: 0\r\n\r\n", 0),
    "switching_protocols": (30, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                                b"\x81\x02hi", 0),
    "empty_reason_and_keep_alive": (14, b"HTTP/1.1 200 \r\nKeep-Alive: timeout=5\r\nContent-Length: 1\r\n\r\nx", 0),
    "truncated_chunked": (45, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nnot sixteen", 0),
}


# --- timer wheel: opcodes (0/1 insert, 2 cancel, 3 advance), id byte, offset = scale + u16 ----

def insert(timer, scale, v):
    return struct.pack(">BBBH", 0, timer, scale, v)


def cancel(timer):
    return struct.pack(">BB", 2, timer)


def advance(scale, v):
    return struct.pack(">BBH", 3, scale, v)


AUTOJUMP = advance(7, 0)

WHEEL = {
    "sleeps_at_every_scale": b"".join(insert(i, i % 7, 100 + 37 * i) for i in range(14)) + AUTOJUMP * 40,
    "cancel_half_then_advance": b"".join(insert(i, 4, 10 * i) for i in range(10))
                                + b"".join(cancel(i) for i in range(0, 10, 2)) + advance(4, 50) + advance(4, 100),
    "slot_edges": b"".join(insert(i, 2, 7 * 64 * (i % 7) + i) for i in range(20)) + advance(2, 7 * 64 * 3) + AUTOJUMP * 30,
    "beyond_the_range_and_max": insert(1, 7, 1) + insert(2, 7, 16) + insert(3, 6, 60000)
                                + advance(6, 65535) + advance(6, 65535) + AUTOJUMP * 20,
    "past_deadlines_and_backwards_time": insert(5, 0, 500) + advance(0, 100) + insert(6, 0, 900)
                                         + advance(1, 1) + insert(7, 1, 0) + advance(3, 0),
    "rearm_after_expiry": insert(9, 3, 65) + advance(3, 66) + insert(9, 3, 65) + cancel(9) + insert(9, 4, 1) + AUTOJUMP * 5,
}


# --- stream_reader: limit byte, call count, calls (kind, p), chunk count, chunk sizes, data ---

READLINE, UNTIL, EXACTLY, UNTIL_BYTE = 0, 1, 2, 3
DEFAULT_LIMIT = 0x80


def stream(limit, calls, chunks, data):
    out = bytes([limit, len(calls) - 1])
    for kind, p in calls:
        out += bytes([kind, p])
    out += bytes([len(chunks) - 1]) + bytes(c - 1 for c in chunks)
    return out + data


STREAMS = {
    "lines": stream(DEFAULT_LIMIT, [(READLINE, 0)] * 5, [3, 1, 7], b"first\nsecond line\n\nlast without newline"),
    "http_head_then_body": stream(DEFAULT_LIMIT, [(UNTIL, 1)] * 3 + [(EXACTLY, 5), (UNTIL, 2)], [2, 9, 4],
                                  b"GET / HTTP/1.1\r\nHost: a\r\n\r\nhelloPOST / HTTP/1.1\r\n\r\nrest"),
    "limit_overrun": stream(4, [(READLINE, 0), (EXACTLY, 3), (READLINE, 0), (READLINE, 0)], [1, 2],
                            b"a line far longer than four\nok\n"),
    "eof_in_the_middle": stream(DEFAULT_LIMIT, [(EXACTLY, 4), (EXACTLY, 50), (READLINE, 0)], [3], b"abcdefghij"),
    "single_byte_delimiters": stream(16, [(UNTIL_BYTE, ord(":")), (UNTIL_BYTE, 0), (UNTIL, 4), (UNTIL, 5)], [1, 5],
                                     b"key:value\x00ab--cd-abcab"),
    "delimiter_split_across_chunks": stream(16, [(UNTIL, 2), (UNTIL, 2), (READLINE, 0)], [13, 1, 1, 1],
                                            b"header: one\r\n\r\nxy\r\n\r\n"),
}


def main():
    for target, seeds in (("http_request_parser", REQUESTS), ("http_response_parser", RESPONSES)):
        shutil.rmtree(HERE / "corpus" / target, ignore_errors=True)
        (HERE / "corpus" / target).mkdir(parents=True)
        for name, seed in seeds.items():
            split, message, extra = seed
            if target == "http_request_parser":
                write(target, name, http(split, message, small_limits=extra))
            else:
                write(target, name, http(split, message, small_limits=name == "overlong_reason", head_mask=extra))
    for target, seeds in (("timer_wheel", WHEEL), ("stream_reader_framing", STREAMS)):
        shutil.rmtree(HERE / "corpus" / target, ignore_errors=True)
        (HERE / "corpus" / target).mkdir(parents=True)
        for name, data in seeds.items():
            write(target, name, data)


if __name__ == "__main__":
    main()
