#!/usr/bin/env python3
"""Writes N pre-signed HTTP/1.1 requests for the bench, all exactly the same length.

Each request is a Genesys-style disposition event (~600-byte JSON body, shaped like
examples/payloads/disposition-updated.json) with a unique id and interactionId,
so every request is a new event for the gateway (idempotency key interactionId|timestamp).
The body is signed with X-Genesys-Signature: lower-case hex HMAC-SHA256(raw body, secret).

Fixed-length records let the wrk Lua script and RateClient.java find request i at byte
offset i * record_size without an index. Prints the record size on stdout.

usage: gen_requests.py OUT_FILE COUNT SECRET [PATH]
"""
import hashlib
import hmac
import sys

TARGET_BODY = 600  # bytes; the body is padded up to this when shorter


def body(seq: int, pad: int) -> bytes:
    # every field has a fixed width, so every body has the same length
    s = f"{seq:012x}"
    minute = (seq // 60) % 60
    second = seq % 60
    ts = f"2026-10-27T14:{minute:02d}:{second:02d}Z"
    text = (
        '{"id":"8b0e6f5e-2a51-4c1e-9f0a-' + s + '",'
        '"type":"Disposition",'
        '"userId":"3f2c9d1e-5b7a-4e08-9c61-2a4b8d0e7f13",'
        '"contactCenterId":"cc-emea-01",'
        '"conversationId":"a7d4c2e9-1b38-4f6a-8e25-' + s + '",'
        '"interactionId":"5e9b1d7c-3a26-4f80-b4c1-' + s + '",'
        '"timestamp":"' + ts + '",'
        '"status":"Updated",'
        '"disposition":{"code":"RESOLVED",'
        '"description":"Customer issue resolved via email' + (" " * pad) + '",'
        '"userId":"3f2c9d1e-5b7a-4e08-9c61-2a4b8d0e7f13",'
        '"timestamp":"' + ts + '"},'
        '"contact":{"id":"c-104233","phoneNumber":"+15550199"},'
        '"recordingUrls":["https://recordings.example.invalid/a7d4c2e9-' + s + '.opus"],'
        '"mediaUrls":[]}'
    )
    return text.encode("ascii")


def main() -> None:
    out, count, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    path = sys.argv[4] if len(sys.argv) > 4 else "/hooks/genesys-dispositions"
    pad = max(0, TARGET_BODY - len(body(0, 0)))
    size = None
    digest = hmac.digest
    with open(out, "wb", buffering=8 << 20) as f:
        for seq in range(count):
            b = body(seq, pad)
            sig = digest(secret, b, hashlib.sha256).hex()
            head = (
                f"POST {path} HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\n"
                "User-Agent: switchboard-bench\r\n"
                "Content-Type: application/json\r\n"
                f"X-Genesys-Signature: {sig}\r\n"
                f"Content-Length: {len(b)}\r\n"
                "\r\n"
            ).encode("ascii")
            rec = head + b
            if size is None:
                size = len(rec)
            elif len(rec) != size:
                raise SystemExit(f"record {seq} has {len(rec)} bytes, expected {size}")
            f.write(rec)
    print(size)


if __name__ == "__main__":
    main()
