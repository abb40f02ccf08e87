"""A small client of the real-time API (docs/realtime.md): it connects with an
API token, subscribes to rooms, prints every event it receives, sends a
heartbeat every 60 seconds, and sends each line typed on stdin to the first
room (or, as ``@<user id> text``, to a user as a private message).

    .venv/bin/python clients/python/realtime.py --token KEY [--room 1 ...]
        [--url ws://127.0.0.1:8000/ws/]

It needs only the ``websockets`` package (in the project's dev extras).
"""

import argparse
import asyncio
import json
import sys

import websockets

HEARTBEAT = 60  # seconds: within the server's presence TTL (120 by default)


async def heartbeats(socket) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT)
        await socket.send(json.dumps({"type": "heartbeat", "status": "online"}))


async def typed_lines(socket, rooms: list[int]) -> None:
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):  # "" at EOF
        line = line.strip()
        if not line:
            continue
        if line.startswith("@"):
            recipient, _, text = line[1:].partition(" ")
            event = {
                "type": "private.message.send",
                "recipient_id": recipient,
                "message": text,
            }
        elif rooms:
            event = {"type": "room.message.send", "room_id": rooms[0], "message": line}
        else:
            print("subscribe to a room (--room) to send to it", file=sys.stderr)
            continue
        await socket.send(json.dumps(event))


async def main(url: str, token: str, rooms: list[int]) -> None:
    async with websockets.connect(f"{url}?token={token}") as socket:
        for room in rooms:
            await socket.send(json.dumps({"type": "subscribe", "room_id": room}))
        background = [
            asyncio.create_task(heartbeats(socket)),
            asyncio.create_task(typed_lines(socket, rooms)),
        ]
        try:
            async for frame in socket:
                event = json.loads(frame)
                if event["type"] == "error":
                    print(f"error {event['status']}: {event['detail']}")
                else:
                    print(json.dumps(event, ensure_ascii=False))
        finally:
            for task in background:
                task.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True, help="an API token's key")
    parser.add_argument("--room", type=int, action="append", default=[])
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/")
    args = parser.parse_args()
    try:
        asyncio.run(main(args.url, args.token, args.room))
    except KeyboardInterrupt:
        pass
    except websockets.InvalidStatus as refused:
        raise SystemExit(f"refused: {refused.response.status_code}") from None
