"""A delivery worker that dies by SIGKILL at a chosen point: the subject of the crash-safety tests.

    python -m tests.alerts.crash_worker --database-url URL [--schema S] --slack-url URL --token T --channel C \\
        --kill-after {claim,chat.postMessage,files_upload_v2,deliver} --kill-key DEDUP_KEY

``claim``: right after the claim is committed, before anything is sent. ``chat.postMessage`` and
``files_upload_v2``: right after Slack answered that call for the alert, before our checkpoint commits it.
``deliver``: after the sink finished every step, before the outcome is committed. The process never exits
normally when the kill point is reached; exit code 3 means it was not reached.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from alerts.delivery import DeliveryWorker
from alerts.sink import Checkpoint, Outgoing, Receipt
from alerts.slack import SlackSink, retry_handlers
from monitor.clock import SystemClock
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class CrashingClient(WebClient):
    kill_after = ""
    kill_key = ""

    def chat_postMessage(self, **kwargs: Any) -> SlackResponse:
        response = super().chat_postMessage(**kwargs)
        key = (kwargs.get("metadata") or {}).get("event_payload", {}).get("dedup_key")
        if self.kill_after == "chat.postMessage" and key == self.kill_key:
            die()
        return response

    def files_upload_v2(self, **kwargs: Any) -> SlackResponse:
        response = super().files_upload_v2(**kwargs)
        if self.kill_after == "files_upload_v2" and self.kill_key.replace(":", "-") in str(kwargs.get("filename")):
            die()
        return response


class CrashingSink(SlackSink):
    kill_after = ""
    kill_key = ""

    def deliver(self, item: Outgoing, checkpoint: Checkpoint) -> Receipt:
        if self.kill_after == "claim" and item.dedup_key == self.kill_key:
            die()
        receipt = super().deliver(item, checkpoint)
        if self.kill_after == "deliver" and item.dedup_key == self.kill_key:
            die()
        return receipt


def main() -> int:
    parser = argparse.ArgumentParser()
    for option in ("--database-url", "--slack-url", "--token", "--channel", "--kill-after", "--kill-key"):
        parser.add_argument(option, required=True)
    parser.add_argument("--schema")
    args = parser.parse_args()
    settings = Settings(slack={"bot_token": args.token, "channel": args.channel, "base_url": args.slack_url})
    CrashingClient.kill_after = CrashingSink.kill_after = args.kill_after
    CrashingClient.kill_key = CrashingSink.kill_key = args.kill_key
    client = CrashingClient(
        token=args.token, base_url=args.slack_url, retry_handlers=retry_handlers(max_wait_seconds=5)
    )
    sink = CrashingSink(client, args.channel, min_post_interval=0)
    engine = make_engine(args.database_url, schema=args.schema)
    worker = DeliveryWorker(session_factory(engine), {"slack": sink}, settings=settings, clock=SystemClock())
    worker.run_once()
    return 3


if __name__ == "__main__":
    raise SystemExit(main())
