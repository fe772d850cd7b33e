#!/usr/bin/env python3
"""Web intake load client for benches/load_web.sh: COUNT requests over CONC keep-alive
connections to one engine on loopback, each a JSON POST of a citizen's request through the
connector route. Prints one JSON line: sent, created (201), refused (by status), seconds,
requests/s, and latency percentiles. Bounded in count and time; talks only to the address
given (127.0.0.1)."""

import asyncio
import json
import sys
import time

TYPES = ["consultation", "help", "suggestion", "complaint", "other"]
WORDS = ["企业开办咨询营业执照办理", "小区路灯不亮已经一周", "建议增加公交线路", "噪音扰民投诉", "社保卡补办"]


def body(i):
    return json.dumps(
        {
            "content": f"{WORDS[i % len(WORDS)]}（负载请求 {i}）",
            "type": TYPES[i % len(TYPES)],
            "area": "市辖区",
            "phone": f"139{i:08d}",
            "callback_consent": True,
            "external_id": f"load-{i}",
        },
        ensure_ascii=False,
    ).encode()


async def worker(host, port, path, token, queue, stats, deadline):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            data = body(i)
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode()
            t0 = time.monotonic()
            writer.write(head + data)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            if length:
                await reader.readexactly(length)
            stats["latency"].append(time.monotonic() - t0)
            parts = status_line.split()
            status = parts[1].decode() if len(parts) > 1 else "none"
            stats["status"][status] = stats["status"].get(status, 0) + 1
    finally:
        writer.close()


async def main():
    addr, token, count, conc, limit_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    channel = sys.argv[6] if len(sys.argv) > 6 else "app"
    host, port = addr.rsplit(":", 1)
    queue = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    stats = {"latency": [], "status": {}}
    t0 = time.monotonic()
    await asyncio.gather(
        *[worker(host, int(port), f"/api/channels/{channel}/requests", token, queue, stats, t0 + limit_s) for _ in range(conc)]
    )
    dt = time.monotonic() - t0
    lat = sorted(stats["latency"])
    pct = lambda p: round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None
    created = stats["status"].get("201", 0)
    print(
        json.dumps(
            {
                "sent": len(lat),
                "created": created,
                "status": stats["status"],
                "seconds": round(dt, 2),
                "created_per_s": round(created / dt, 1),
                "p50_ms": pct(0.5),
                "p99_ms": pct(0.99),
                "max_ms": pct(1.0),
            }
        )
    )


asyncio.run(main())
