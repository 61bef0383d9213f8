"""The fire drill (`launchready verify --fire-drill`): alarms really reach a subscriber.

For the drill, verify subscribes a queue of its own to the alert topic (an SQS subscription in the
same account is confirmed at once), sets every declared alarm to ALARM with SetAlarmState (CloudWatch
then runs the alarm actions, as for a real breach), waits for each alarm's notification to arrive in
the queue, sets every alarm back to OK, and removes the queue and its subscription, whatever happened.
The people subscribed to the topic receive the drill too: that is the point, and why it is opt-in.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..awsclient import AwsClients
from ..registry import probe
from .awsprobes import clients, find_topic

REASON = "launchready verify --fire-drill: a drill, not an outage; set back to OK by the drill"


@dataclass(frozen=True)
class DrillObservation:
    topic_arn: str | None
    missing: tuple[str, ...] = ()          # declared alarms that do not exist
    delivered: tuple[str, ...] = ()        # alarms whose ALARM notification reached the drill's queue
    restored: tuple[str, ...] = ()         # alarms set back to OK
    problems: tuple[tuple[str, str], ...] = ()  # (alarm, what went wrong setting its state)
    waited_s: float = 0.0


def _queue(aws: AwsClients, region: str, topic_arn: str) -> tuple[str, str, str]:
    """A drill queue subscribed to the topic: (queue url, queue arn, subscription arn)."""
    name = f"launchready-fire-drill-{secrets.token_hex(4)}"
    url = aws.call("sqs", "create_queue", region=region, QueueName=name)["QueueUrl"]
    arn = aws.call("sqs", "get_queue_attributes", region=region, QueueUrl=url,
                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}]}
    aws.call("sqs", "set_queue_attributes", region=region, QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sub = aws.call("sns", "subscribe", region=region, TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                   ReturnSubscriptionArn=True)["SubscriptionArn"]
    return url, arn, sub


def _alarm_of(body: str) -> tuple[str, str] | None:
    """(alarm name, new state) of an SNS-wrapped CloudWatch notification, else None."""
    try:
        envelope = json.loads(body)
        message = json.loads(envelope.get("Message", "")) if isinstance(envelope, dict) else {}
    except (ValueError, TypeError):
        return None
    if not isinstance(message, dict) or "AlarmName" not in message:
        return None
    return str(message["AlarmName"]), str(message.get("NewStateValue") or "")


def _collect(aws: AwsClients, region: str, url: str, wanted: set[str], budget: float) -> set[str]:
    """Alarm names whose ALARM notification arrived within `budget` seconds."""
    seen: set[str] = set()
    end = time.monotonic() + budget
    while wanted - seen and time.monotonic() < end:
        # long polling (1 s) only when the client's read timeout leaves room for it
        wait = 1 if aws.timeout > 1.5 and end - time.monotonic() > 1 else 0
        r = aws.call("sqs", "receive_message", region=region, QueueUrl=url, MaxNumberOfMessages=10,
                     WaitTimeSeconds=wait)
        for m in r.get("Messages") or ():
            got = _alarm_of(m.get("Body") or "")
            if got and got[1] == "ALARM":
                seen.add(got[0])
        if not r.get("Messages"):
            time.sleep(0.1)
    return seen & wanted


def _set_all(aws: AwsClients, region: str, names: list[str], state: str) -> tuple[list[str], list[tuple[str, str]]]:
    done, problems = [], []
    for name in names:
        try:
            aws.call("cloudwatch", "set_alarm_state", region=region, AlarmName=name, StateValue=state,
                     StateReason=REASON)
            done.append(name)
        except Exception as exc:  # noqa: BLE001 - one alarm's failure is reported, the drill goes on
            problems.append((name, f"set {state}: {exc}"))
    return done, problems


def _cleanup(aws: AwsClients, region: str, url: str | None, sub: str | None) -> None:
    for op, params in (("unsubscribe", {"SubscriptionArn": sub}), ("delete_queue", {"QueueUrl": url})):
        if params[next(iter(params))]:
            try:
                aws.call("sns" if op == "unsubscribe" else "sqs", op, region=region, **params)
            except Exception:  # noqa: BLE001, S110 - best effort; the queue name says what it was
                pass


# A journey: it waits up to ~4 timeouts for delivery and must then still set every alarm back to OK,
# so the per-probe timeout must not cut it off half-way (the run's deadline still bounds it).
@probe("aws-fire-drill", journey=True)
def probe_fire_drill(ctx: Any, region: str, topic: str, alarms: tuple[str, ...]) -> DrillObservation:
    aws = clients(ctx)
    arn = find_topic(aws, region, topic)
    if arn is None:
        return DrillObservation(topic_arn=None)
    existing = {a["AlarmName"] for a in aws.pages("cloudwatch", "describe_alarms", "MetricAlarms", region=region,
                                                  AlarmNames=list(alarms)[:100])}
    missing = tuple(a for a in alarms if a not in existing)
    names = [a for a in alarms if a in existing]
    # verify.audit gives the drill's probe 20 s more than this, to set alarms back and clean up.
    budget = max(2.0, getattr(ctx, "timeout", 3.0) * 4)
    url = sub = None
    fired: list[str] = []
    problems: list[tuple[str, str]] = []
    restored: list[str] = []
    t0 = time.monotonic()
    try:
        url, _, sub = _queue(aws, region, arn)
        fired, problems = _set_all(aws, region, names, "ALARM")
        delivered = _collect(aws, region, url, set(fired), budget)
    finally:
        restored, back = _set_all(aws, region, fired, "OK")
        problems += back
        _cleanup(aws, region, url, sub)
    return DrillObservation(topic_arn=arn, missing=missing, delivered=tuple(a for a in names if a in delivered),
                            restored=tuple(restored), problems=tuple(problems),
                            waited_s=round(time.monotonic() - t0, 2))


PROBES = (probe_fire_drill,)
