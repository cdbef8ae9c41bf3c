#!/usr/bin/env python3
"""tests/soak/slowloris.py: slowloris clients for the HTTP half of the soak (scripts/soak.sh).

    slowloris.py --port P --header-timeout 3.0 [--connections 200] [--seconds 60]
                 [--interval 0.5] [--late-after 1.0]

Keeps N connections open to an HTTP server. Each one sends a request head one byte every
--interval seconds and never finishes it (after the request line and Host, it keeps adding
header fields), so only the server's header timeout can end it: the server must close the
connection header_timeout after accepting it, without answering (reliability.md T-43).

Each connection measures its life from the moment connect() succeeded to the moment it saw the
server's FIN or RST. The server starts its clock at accept, a little later, so a life shorter
than the timeout (minus a few milliseconds of clock granularity) means the server closed it
early; longer than timeout + --late-after means late. A connection that lives past
timeout + 10 s is abandoned and counted as never closed. When one connection ends, its slot
opens the next, until --seconds have passed; the last ones are followed to their end. The slots
start spread over the first header_timeout seconds, so the closes do not all come at once.

Prints one line, "RESULT connections=.. at_deadline=.. early=.. late=.. never_closed=..
answered=.. connect_errors=.. max_life_ms=..", and exits 1 unless every connection was closed
at its deadline, without an answer (answered: the server sent bytes, which it must not).
"""

import argparse
import asyncio
import itertools
import random
import sys

EARLY_SLACK = 0.02  # seconds: the two clocks' granularity, not a real early close
GIVE_UP_AFTER = 10.0  # seconds past the timeout: the server will never close it


def endless_head():
    """The bytes of a request head that never ends: one more header field, forever."""
    yield from b"GET / HTTP/1.1\r\nHost: soak\r\n"
    for n in itertools.count():
        yield from b"X-Slow-%d: 1\r\n" % n


async def one_connection(args, tally):
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    except OSError as error:
        tally["connect_errors"] += 1
        print(f"slowloris: connect: {error}", file=sys.stderr)
        return
    start = loop.time()
    closed = asyncio.ensure_future(reader.read(1))  # b"" at EOF, or ConnectionResetError
    head = endless_head()
    give_up = start + args.header_timeout + GIVE_UP_AFTER
    try:
        while loop.time() < give_up:
            writer.write(bytes([next(head)]))
            done, _ = await asyncio.wait({closed}, timeout=args.interval)
            if done:
                break
    finally:
        if not closed.done():
            closed.cancel()
        writer.transport.abort()
    life = loop.time() - start
    tally["connections"] += 1
    tally["max_life_ms"] = max(tally["max_life_ms"], int(life * 1000))
    if closed.cancelled():
        tally["never_closed"] += 1
        return
    try:
        if closed.result():
            tally["answered"] += 1
    except ConnectionError:
        pass  # a RST instead of a FIN: closed all the same
    if life < args.header_timeout - EARLY_SLACK:
        tally["early"] += 1
    elif life > args.header_timeout + args.late_after:
        tally["late"] += 1
    else:
        tally["at_deadline"] += 1


async def slot(args, end, tally):
    await asyncio.sleep(random.uniform(0, args.header_timeout))
    loop = asyncio.get_running_loop()
    while loop.time() < end:
        await one_connection(args, tally)


async def main(args):
    tally = dict.fromkeys(
        ["connections", "at_deadline", "early", "late", "never_closed", "answered", "connect_errors", "max_life_ms"], 0)
    end = asyncio.get_running_loop().time() + args.seconds
    await asyncio.gather(*(slot(args, end, tally) for _ in range(args.connections)))
    print("RESULT " + " ".join(f"{key}={value}" for key, value in tally.items()), flush=True)
    bad = tally["early"] + tally["late"] + tally["never_closed"] + tally["answered"] + tally["connect_errors"]
    return 0 if bad == 0 and tally["connections"] > 0 else 1


def parse_args():
    parser = argparse.ArgumentParser(description="slowloris clients for the HTTP soak")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--header-timeout", type=float, required=True, help="the server's, in seconds")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two bytes")
    parser.add_argument("--late-after", type=float, default=1.0, help="seconds past the timeout that count as late")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.connections < 1 or args.interval <= 0 or args.header_timeout <= 0:
        parser.error("--connections, --interval and --header-timeout must be positive")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    random.seed(arguments.seed)
    sys.exit(asyncio.run(main(arguments)))
