#!/usr/bin/env python3
"""tests/io/http/server_interop_test.py ECHO_SERVER HELLO_SERVER

corio::http::server driven by real clients that nobody here wrote: curl, wrk and Python's
http.client. It starts both servers on free ports (127.0.0.1, --port 0), reads the port from
their first line ("listening on 127.0.0.1:PORT"), runs every check, then stops them with
SIGTERM, which must end each with status 0.

ECHO_SERVER is tests/io/http/server_interop_echo (answers with X-Method, X-Target,
X-Body-Length and the body echoed); HELLO_SERVER is samples/http_hello.

curl or wrk, if not installed, is skipped with a loud message (Python's http.client is always
there, so the test always runs). Every wait is bounded.
"""
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FAILURES = []


def check(condition, what):
    if condition:
        print(f"  ok: {what}")
    else:
        print(f"  FAIL: {what}")
        FAILURES.append(what)


class Server:
    """A server process on a free port; stop() sends SIGTERM and checks the exit status."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv + ["--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise SystemExit(f"FAIL: {argv[0]}'s first line is not 'listening on 127.0.0.1:PORT': {line!r}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self, name):
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = "still running 10 s after SIGTERM"
        stderr = self.proc.stderr.read()
        check(status == 0, f"{name} exits 0 on SIGTERM (got {status})")
        check(stderr.strip() == "", f"{name} logged nothing (stderr: {stderr.strip()[:300]!r})")


def run(argv, timeout=30):
    return subprocess.run(argv, capture_output=True, timeout=timeout)


def curl_checks(echo, hello, tmp):
    print("curl:")
    r = run(["curl", "-sS", "-i", hello.url + "/"])
    out = r.stdout.decode()
    check(r.returncode == 0 and out.startswith("HTTP/1.1 200 OK") and out.endswith("Hello, World!"), "GET / on http_hello")
    check(re.search(r"\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n", out) is not None, "a Date field")

    r = run(["curl", "-sS", "-v", "-o", "/dev/null", "-o", "/dev/null", echo.url + "/one", echo.url + "/two"])
    check(r.returncode == 0 and b"Re-using existing connection" in r.stderr, "two URLs reuse one keep-alive connection")

    r = run(["curl", "-sS", "-I", hello.url + "/"])
    out = r.stdout.decode()
    check(r.returncode == 0 and "Content-Length: 13\r\n" in out, "HEAD gets the GET's Content-Length and no body")

    body_file = os.path.join(tmp, "body.bin")
    with open(body_file, "wb") as f:
        f.write(os.urandom(300_000))
    for extra, what in ((["-H", "Expect: 100-continue"], "a 300 kB POST with Expect: 100-continue"),
                        (["-H", "Transfer-Encoding: chunked"], "a 300 kB chunked upload"),
                        ([], "a 300 kB POST")):
        start = time.monotonic()
        r = run(["curl", "-sS", "-D", "-", "-o", os.path.join(tmp, "echoed.bin"), "--data-binary", "@" + body_file]
                + extra + [echo.url + "/upload"])
        took = time.monotonic() - start
        head = r.stdout.decode()
        with open(os.path.join(tmp, "echoed.bin"), "rb") as f:
            echoed = f.read()
        with open(body_file, "rb") as f:
            sent = f.read()
        check(r.returncode == 0 and "X-Body-Length: 300000" in head and echoed == sent, f"{what}: echoed intact")
        check(took < 0.9, f"{what}: no 1 s Expect wait ({took:.2f} s)")

    with open(body_file, "wb") as f:
        f.write(b"x" * (2 << 20))
    r = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@" + body_file, echo.url + "/big"])
    check(r.stdout.decode() == "413", f"a 2 MiB body gets 413 (got {r.stdout.decode()!r}, curl status {r.returncode})")

    r = run(["curl", "-sS", "-i", "--http1.0", echo.url + "/old"])
    out = r.stdout.decode()
    check(r.returncode == 0 and "Connection: close\r\n" in out and "X-Target: /old" in out, "HTTP/1.0 is answered, then closed")

    r = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", echo.url + "/a%20b?q=1&r=%2F"])
    check(r.stdout.decode() == "200", "DELETE with an encoded query")


def http_client_checks(echo):
    print("python http.client:")
    conn = http.client.HTTPConnection("127.0.0.1", echo.port, timeout=10)
    conn.request("GET", "/first")
    r = conn.getresponse()
    first_sock = conn.sock
    check(r.status == 200 and r.read() == b"Hello, World!" and r.getheader("X-Target") == "/first", "GET")
    conn.request("POST", "/form", body=b"a=1&b=2", headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    check(r.status == 200 and r.read() == b"a=1&b=2" and r.getheader("X-Method") == "POST", "POST on the same connection")

    def pieces():
        yield b"chunk one, "
        yield b"chunk two"

    conn.request("PUT", "/chunked", body=pieces(), encode_chunked=True)
    r = conn.getresponse()
    check(r.status == 200 and r.read() == b"chunk one, chunk two", "a chunked PUT (encode_chunked)")
    conn.request("HEAD", "/head")
    r = conn.getresponse()
    check(r.status == 200 and r.read() == b"" and r.getheader("Content-Length") == "13", "HEAD")
    check(conn.sock is first_sock, "all four on one keep-alive connection")
    conn.close()

    conn = http.client.HTTPConnection("127.0.0.1", echo.port, timeout=10)
    conn.putrequest("GET", "/" + "a" * 9000)
    conn.endheaders()
    r = conn.getresponse()
    check(r.status == 414 and r.getheader("Connection") == "close", "a 9000-byte target gets 414 and close")
    conn.close()

    conn = http.client.HTTPConnection("127.0.0.1", echo.port, timeout=10)
    conn.putrequest("GET", "/many")
    for i in range(101):
        conn.putheader(f"X-Field-{i}", "v")
    conn.endheaders()
    r = conn.getresponse()
    check(r.status == 431, "101 more fields get 431")
    conn.close()


PIPELINE_LUA = """
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/") end
  req = table.concat(r)
end
request = function() return req end
"""


def wrk_checks(hello, tmp):
    print("wrk:")
    lua = os.path.join(tmp, "pipeline.lua")
    with open(lua, "w") as f:
        f.write(PIPELINE_LUA)
    for extra, what in (([], "10 connections, 1 s"), (["-s", lua], "10 connections, 16 pipelined requests each")):
        r = run(["wrk", "-t1", "-c10", "-d1s"] + extra + [hello.url + "/"], timeout=30)
        out = r.stdout.decode()
        m = re.search(r"(\d+) requests in", out)
        requests = int(m.group(1)) if m else 0
        check(r.returncode == 0 and requests > 1000, f"{what}: {requests} requests")
        clean = "Non-2xx" not in out and "Socket errors" not in out
        check(clean, f"{what}: no errors, no non-2xx" + ("" if clean else "\n" + out))


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    tools = {name: shutil.which(name) is not None for name in ("curl", "wrk")}
    for name, present in tools.items():
        if not present:
            print(f"\n*** SKIPPING the {name} checks: {name} is not installed (apt-get install {name}) ***\n")
    echo = Server([sys.argv[1]])
    hello = Server([sys.argv[2]])
    try:
        with tempfile.TemporaryDirectory(prefix="h1-interop-") as tmp:
            if tools["curl"]:
                curl_checks(echo, hello, tmp)
            http_client_checks(echo)
            if tools["wrk"]:
                wrk_checks(hello, tmp)
    finally:
        echo.stop("server_interop_echo")
        hello.stop("http_hello")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
