"""The Slack sink against a local server speaking the Web API: cards, threads, charts, failures, exactly once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator

from alerts.sink import Outgoing, RootMessage
from alerts.slack import EVENT_TYPE, SlackSink
from monitor.config import Settings
from monitor.errors import DeliveryFailed, DeliveryRejected
from monitor.models import AlertStage
from monitor.outbox import AnyAlert
from monitor.pipeline.reconcile import reconcile
from tests.fakes.alert_samples import detected, follow_up
from tests.fakes.slack_server import FakeSlack, Fault

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def make_sink(slack: FakeSlack, *, timeout: float = 20.0, **options: Any) -> SlackSink:
    settings = Settings(
        slack={
            "bot_token": SecretStr(slack.token),
            "channel": slack.channel,
            "base_url": slack.base_url,
            "min_post_interval_seconds": 0,
        },
        network={"timeout_seconds": timeout},
    )
    options.setdefault("interval", FixedValueRetryIntervalCalculator(0.01))
    options.setdefault("retry_pause", 0.01)
    return SlackSink.from_settings(settings, **options)


@pytest.fixture
def sink(slack: FakeSlack) -> SlackSink:
    return make_sink(slack)


def outgoing(
    alert: AnyAlert,
    *,
    delivery_id: int = 1,
    maybe_delivered: bool = False,
    progress: Mapping[str, Any] | None = None,
    root: RootMessage | None = None,
) -> Outgoing:
    return Outgoing(
        delivery_id=delivery_id,
        alert_id=delivery_id,
        dedup_key=alert.dedup_key,
        sink="slack",
        alert=alert,
        attempt=2 if maybe_delivered else 1,
        maybe_delivered=maybe_delivered,
        created_at=datetime.now(UTC),
        progress=progress or {},
        root=root,
    )


class Checkpoints(list[dict[str, Any]]):
    def __call__(self, done: Mapping[str, Any]) -> None:
        self.append(dict(done))


def post_root(sink: SlackSink) -> RootMessage:
    receipt = sink.deliver(outgoing(detected(1)), Checkpoints())
    return RootMessage(detected(1).dedup_key, detected(1), receipt.channel, receipt.external_id)


def test_detected_card_is_posted_with_blocks_fallback_text_and_the_dedup_key(slack: FakeSlack, sink: SlackSink) -> None:
    checkpoints = Checkpoints()
    receipt = sink.deliver(outgoing(detected(1)), checkpoints)
    [message] = slack.messages()
    assert receipt.external_id == message["ts"]
    assert receipt.channel == slack.channel
    assert receipt.thread_ref is None
    sending, done = checkpoints
    assert set(sending) == {"post_sent_at"}  # committed before the post, so a resumed delivery knows to look first
    assert done == {"channel": slack.channel, "ts": message["ts"], "thread_ts": None}
    assert message["metadata"]["event_type"] == EVENT_TYPE
    assert message["metadata"]["event_payload"]["dedup_key"] == "event:1:g:all:detected"
    assert message["text"].startswith("Addition of Certain Entities to the Entity List: 8 listed securities hit. ")
    assert message["blocks"][0]["type"] == "header"
    [request] = slack.requests("chat.postMessage")
    assert request.headers["Authorization"] == f"Bearer {slack.token}"
    assert slack.token not in request.body.decode()  # the token travels in the header only
    assert json.loads(request.body)["unfurl_links"] is False


def test_follow_up_is_a_reply_in_the_thread_with_its_chart_and_the_card_shows_the_latest(
    slack: FakeSlack, sink: SlackSink
) -> None:
    root = post_root(sink)
    receipt = sink.deliver(outgoing(follow_up(1, AlertStage.DAY1), delivery_id=2, root=root), Checkpoints())
    reply, chart = slack.thread(slack.channel, str(root.external_id))
    assert reply["ts"] == receipt.external_id
    assert reply["metadata"]["event_payload"]["dedup_key"] == "event:1:g:all:day1"
    assert reply["text"].startswith("Day +1 close")
    assert reply["reply_broadcast"] is True  # |CAR| of 11% is a big move: shown in the channel too
    assert chart["files"][0]["name"] == "ar-car-event-1-g-all-day1.png"
    [upload] = slack.uploaded().values()
    assert upload["bytes"].startswith(b"\x89PNG")
    assert receipt.detail["file_id"] == upload["id"]
    assert receipt.detail["root_updated"] is True
    methods = [r.method for r in slack.requests()]
    assert methods[-4:] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal", "chat.update"]
    card = slack.messages()[0]
    assert any("Latest: Day +1 close" in json.dumps(b) for b in card["blocks"])
    assert len(slack.top_level()) == 1


def test_small_moves_stay_in_the_thread(slack: FakeSlack) -> None:
    sink = make_sink(slack, broadcast_threshold=0.5, charts=False)
    root = post_root(sink)
    sink.deliver(outgoing(follow_up(1, AlertStage.DAY0), delivery_id=2, root=root), Checkpoints())
    [reply] = slack.thread(slack.channel, str(root.external_id))
    assert "reply_broadcast" not in reply
    assert slack.count("files.getUploadURLExternal") == 0


def test_a_429_is_retried_after_retry_after(slack: FakeSlack, sink: SlackSink) -> None:
    slack.fail("chat.postMessage", Fault.rate_limited(retry_after=1))
    sink.deliver(outgoing(detected(1)), Checkpoints())
    first, second = slack.requests("chat.postMessage")
    assert second.at - first.at >= 1.0
    assert slack.dedup_keys() == {"event:1:g:all:detected": 1}


def test_a_long_retry_after_goes_back_to_the_outbox_instead_of_blocking(slack: FakeSlack, sink: SlackSink) -> None:
    slack.fail("chat.postMessage", Fault.rate_limited(retry_after=120))
    with pytest.raises(DeliveryFailed) as raised:
        sink.deliver(outgoing(detected(1)), Checkpoints())
    assert raised.value.retry_after == 120
    assert slack.messages() == []


def test_a_500_on_posting_is_checked_before_the_retry(slack: FakeSlack, sink: SlackSink) -> None:
    slack.fail("chat.postMessage", Fault.server_error(500), Fault.server_error(503))
    sink.deliver(outgoing(detected(1)), Checkpoints())
    assert slack.count("chat.postMessage") == 3
    assert slack.count("conversations.history") == 2
    assert slack.dedup_keys() == {"event:1:g:all:detected": 1}


def test_a_post_whose_answer_was_lost_is_found_not_posted_again(slack: FakeSlack, sink: SlackSink) -> None:
    slack.fail("chat.postMessage", Fault.drop_after())
    receipt = sink.deliver(outgoing(detected(1)), Checkpoints())
    assert slack.count("chat.postMessage") == 1
    [message] = slack.messages()
    assert receipt.external_id == message["ts"]


def test_a_connection_dropped_before_posting_is_posted_once(slack: FakeSlack, sink: SlackSink) -> None:
    slack.fail("chat.postMessage", Fault.drop_before(), Fault.drop_before())
    sink.deliver(outgoing(detected(1)), Checkpoints())
    assert slack.count("chat.postMessage") == 3
    assert slack.dedup_keys() == {"event:1:g:all:detected": 1}


def test_posting_that_keeps_failing_is_a_transient_failure(slack: FakeSlack, sink: SlackSink) -> None:
    slack.fail("chat.postMessage", *[Fault.server_error()] * 3)
    with pytest.raises(DeliveryFailed, match=r"chat\.postMessage failed"):
        sink.deliver(outgoing(detected(1)), Checkpoints())
    assert slack.messages() == []


def test_a_post_that_lands_after_the_client_timeout_is_not_posted_again(slack: FakeSlack) -> None:
    """Slack slow in an incident: the post lands 1.5 s after it was sent, the client gives up after 1 s."""
    sink = make_sink(slack, timeout=1)
    slack.fail("chat.postMessage", Fault.lands_late(1.5))
    first = Checkpoints()
    with pytest.raises(DeliveryFailed, match=r"chat\.postMessage"):
        sink.deliver(outgoing(detected(1)), first)
    assert slack.count("chat.postMessage") == 1  # no second post in the same attempt
    assert "post_sent_at" in first[-1]
    while slack.in_flight():  # the outbox's next attempt comes seconds later: by then the post has landed
        time.sleep(0.05)
    again = sink.deliver(outgoing(detected(1), maybe_delivered=True, progress=first[-1]), Checkpoints())
    [message] = slack.messages()
    assert again.external_id == message["ts"]
    assert slack.count("chat.postMessage") == 1
    assert slack.dedup_keys() == {"event:1:g:all:detected": 1}


def test_within_the_late_post_window_a_miss_is_looked_up_again_later_not_posted(slack: FakeSlack) -> None:
    wall = [1_000_000.0]
    sink = make_sink(slack, timeout=2, wall=lambda: wall[0])
    assert sink.late_post_window == 60  # the setting's default, above twice the 2 s timeout
    unanswered = {"post_sent_at": wall[0] - 30}  # a post sent 30 s ago got no answer and is not in the channel
    with pytest.raises(DeliveryFailed, match="may still appear"):
        sink.deliver(outgoing(detected(1), maybe_delivered=True, progress=unanswered), Checkpoints())
    assert slack.count("conversations.history") == 1
    assert slack.count("chat.postMessage") == 0
    wall[0] += 31  # past the window: Slack has dropped it for good, so it is posted
    receipt = sink.deliver(outgoing(detected(1), maybe_delivered=True, progress=unanswered), Checkpoints())
    assert slack.count("chat.postMessage") == 1
    assert slack.dedup_keys() == {"event:1:g:all:detected": 1}
    assert "post_sent_at" not in receipt.detail


def test_the_late_post_window_is_at_least_twice_the_client_timeout(slack: FakeSlack) -> None:
    assert make_sink(slack, timeout=45).late_post_window == 90


def test_reads_are_retried_by_the_sdk_handlers(slack: FakeSlack, sink: SlackSink) -> None:
    slack.fail("conversations.history", Fault.server_error(500), Fault.drop_before())
    sink.deliver(outgoing(detected(1), maybe_delivered=True), Checkpoints())
    assert slack.count("conversations.history") == 3
    assert slack.count("chat.postMessage") == 1


def test_a_retry_adopts_the_message_an_earlier_attempt_posted(slack: FakeSlack, sink: SlackSink) -> None:
    first = sink.deliver(outgoing(detected(1)), Checkpoints())
    for number in range(450):  # a busy channel: the look-up pages back through newer messages
        slack.post_foreign(f"chatter {number}")
    again = sink.deliver(outgoing(detected(1), maybe_delivered=True), Checkpoints())
    assert again.external_id == first.external_id
    assert slack.count("chat.postMessage") == 1
    assert slack.count("conversations.history") == 3


def test_a_failed_chart_upload_resumes_without_reposting_the_reply(slack: FakeSlack, sink: SlackSink) -> None:
    root = post_root(sink)
    alert = follow_up(1, AlertStage.DAY5)
    slack.fail("files.completeUploadExternal", Fault.server_error(500))
    checkpoints = Checkpoints()
    with pytest.raises(DeliveryFailed, match="files_upload_v2"):
        sink.deliver(outgoing(alert, delivery_id=2, root=root), checkpoints)
    assert "ts" in checkpoints[-1]
    assert "file_id" not in checkpoints[-1]
    receipt = sink.deliver(
        outgoing(alert, delivery_id=2, root=root, maybe_delivered=True, progress=checkpoints[-1]), Checkpoints()
    )
    replies = slack.thread(slack.channel, str(root.external_id))
    assert [bool(m.get("files")) for m in replies] == [False, True]
    assert receipt.external_id == replies[0]["ts"]
    assert slack.count("chat.postMessage") == 2  # the root and the reply, each once


def test_a_chart_shared_before_the_answer_was_lost_is_not_shared_again(slack: FakeSlack, sink: SlackSink) -> None:
    root = post_root(sink)
    alert = follow_up(1, AlertStage.DAY1)
    slack.fail("files.completeUploadExternal", Fault.drop_after())
    checkpoints = Checkpoints()
    with pytest.raises(DeliveryFailed):
        sink.deliver(outgoing(alert, delivery_id=2, root=root), checkpoints)
    sink.deliver(
        outgoing(alert, delivery_id=2, root=root, maybe_delivered=True, progress=checkpoints[-1]), Checkpoints()
    )
    replies = slack.thread(slack.channel, str(root.external_id))
    assert sum(1 for m in replies if m.get("files")) == 1
    assert slack.count("files.completeUploadExternal") == 1


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth", "invalid_blocks"])
def test_refusals_are_permanent(slack: FakeSlack, sink: SlackSink, error: str) -> None:
    slack.fail("chat.postMessage", Fault.slack_error(error))
    with pytest.raises(DeliveryRejected, match=error):
        sink.deliver(outgoing(detected(1)), Checkpoints())


def test_a_wrong_token_is_refused_and_never_quoted(slack: FakeSlack) -> None:
    settings = Settings(
        slack={"bot_token": SecretStr("xoxb-wrong-token-9999"), "channel": slack.channel, "base_url": slack.base_url}
    )
    sink = SlackSink.from_settings(settings, min_post_interval=0)
    with pytest.raises(DeliveryRejected, match="invalid_auth") as raised:
        sink.deliver(outgoing(detected(1)), Checkpoints())
    assert "xoxb-wrong-token-9999" not in str(raised.value) + repr(raised.value)


def test_a_card_that_cannot_be_updated_does_not_fail_the_follow_up(slack: FakeSlack, sink: SlackSink) -> None:
    root = post_root(sink)
    slack.fail("chat.update", Fault.slack_error("cant_update_message"))
    receipt = sink.deliver(outgoing(follow_up(1, AlertStage.DAY1), delivery_id=2, root=root), Checkpoints())
    assert receipt.detail["root_updated"] is False


def test_a_follow_up_without_a_root_stands_alone_with_its_chart_in_its_own_thread(
    slack: FakeSlack, sink: SlackSink
) -> None:
    receipt = sink.deliver(outgoing(follow_up(1, AlertStage.DAY1)), Checkpoints())
    [reply] = slack.top_level()
    assert reply["ts"] == receipt.external_id
    [chart] = slack.thread(slack.channel, reply["ts"])
    assert chart["files"]
    assert slack.count("chat.update") == 0


def test_posts_are_paced_per_channel(slack: FakeSlack) -> None:
    pauses: list[float] = []
    clock = iter(float(n) * 0.25 for n in range(100))
    sink = make_sink(slack, min_post_interval=1.0, sleep=pauses.append, monotonic=lambda: next(clock))
    sink.deliver(outgoing(detected(1)), Checkpoints())
    sink.deliver(outgoing(detected(2), delivery_id=2), Checkpoints())
    assert pauses
    assert all(0 < pause <= 1.0 for pause in pauses)


def test_send_test_authenticates_and_posts(slack: FakeSlack, sink: SlackSink) -> None:
    answer = sink.send_test("hello from the test")
    assert "as entity-list-monitor (Test Trading Desk" in answer
    assert slack.count("auth.test") == 1
    assert slack.messages()[0]["text"] == "hello from the test"


def test_a_reconcile_reply_goes_in_the_thread_and_the_card_is_updated_in_place(
    slack: FakeSlack, sink: SlackSink
) -> None:
    root = post_root(sink)
    published = detected(1, n_entities=29, based_on="published")
    pi_time = detected(1, based_on="public_inspection")
    reply = reconcile(published, [pi_time.model_dump(mode="json")])
    receipt = sink.deliver(outgoing(reply, delivery_id=3, root=root), Checkpoints())
    [message] = slack.thread(slack.channel, str(root.external_id))
    assert message["ts"] == receipt.external_id
    assert message["metadata"]["event_payload"]["dedup_key"] == "event:1:g:all:reconciled"
    assert message["text"].startswith("Published: 1 entity added")
    assert receipt.detail["root_updated"] is True
    [update] = slack.requests("chat.update")
    body = json.loads(update.body)
    assert body["ts"] == root.external_id
    assert "29 entities (29 added)" in body["text"]  # the card now shows the published rule
    assert len(slack.top_level()) == 1
