#!/usr/bin/env python3
"""The independent check of localcloud's shadow service: AWS's own IoT Device SDK v2 for Python
(awsiotsdk), its iotshadow client, reading and updating a named shadow through localcloud as it
would through AWS IoT Core.

Usage: awsiot_shadow.py HOST PORT CA CERT KEY THING
Prints one JSON object: what the SDK parsed from localcloud's replies, step by step.
"""
import json
import queue
import sys

from awscrt import mqtt
from awsiot import iotshadow, mqtt_connection_builder

host, port, ca, cert, key, thing = sys.argv[1:7]
NAME = "trackerd"
QOS = mqtt.QoS.AT_LEAST_ONCE
replies = queue.Queue()
result = {}

connection = mqtt_connection_builder.mtls_from_path(
    endpoint=host, port=int(port), cert_filepath=cert, pri_key_filepath=key, ca_filepath=ca,
    client_id="awsiotsdk-shadow", clean_session=True, keep_alive_secs=30)
connection.connect().result(15)
shadow = iotshadow.IotShadowClient(connection)


def on(kind):
    return lambda response: replies.put((kind, response))


def subscribe(method, request_type, kind):
    future, _ = method(request_type(shadow_name=NAME, thing_name=thing), QOS, on(kind))
    future.result(10)


subscribe(shadow.subscribe_to_get_named_shadow_accepted, iotshadow.GetNamedShadowSubscriptionRequest, "get/accepted")
subscribe(shadow.subscribe_to_get_named_shadow_rejected, iotshadow.GetNamedShadowSubscriptionRequest, "get/rejected")
subscribe(shadow.subscribe_to_update_named_shadow_accepted, iotshadow.UpdateNamedShadowSubscriptionRequest, "update/accepted")
subscribe(shadow.subscribe_to_update_named_shadow_rejected, iotshadow.UpdateNamedShadowSubscriptionRequest, "update/rejected")
subscribe(shadow.subscribe_to_named_shadow_delta_updated_events, iotshadow.NamedShadowDeltaUpdatedSubscriptionRequest, "delta")
subscribe(shadow.subscribe_to_named_shadow_updated_events, iotshadow.NamedShadowUpdatedSubscriptionRequest, "documents")


def expect(*kinds):
    """The next replies, one of each kind, in whatever order they come."""
    got = {}
    while set(got) != set(kinds):
        kind, response = replies.get(timeout=15)
        got[kind] = response
    return got


def get(token):
    shadow.publish_get_named_shadow(iotshadow.GetNamedShadowRequest(
        shadow_name=NAME, thing_name=thing, client_token=token), QOS).result(10)


def update(token, desired=None, reported=None, version=None):
    shadow.publish_update_named_shadow(iotshadow.UpdateNamedShadowRequest(
        shadow_name=NAME, thing_name=thing, client_token=token, version=version,
        state=iotshadow.ShadowState(desired=desired, reported=reported)), QOS).result(10)


try:
    get("t1")
    missing = expect("get/rejected")["get/rejected"]
    result["missing"] = {"code": missing.code, "message": missing.message, "clientToken": missing.client_token}

    update("t2", desired={"report": {"moving_interval_s": 30}})
    got = expect("update/accepted", "documents", "delta")
    result["desired"] = {"version": got["update/accepted"].version, "clientToken": got["update/accepted"].client_token,
                         "delta": got["delta"].state, "deltaVersion": got["delta"].version,
                         "currentDesired": got["documents"].current.state.desired,
                         "previousVersion": got["documents"].previous.version}

    update("t3", reported={"report": {"moving_interval_s": 30}})
    got = expect("update/accepted", "documents")
    result["reported"] = {"version": got["update/accepted"].version,
                          "currentReported": got["documents"].current.state.reported}

    get("t4")
    document = expect("get/accepted")["get/accepted"]
    result["document"] = {"version": document.version, "desired": document.state.desired,
                          "reported": document.state.reported, "delta": document.state.delta,
                          "hasMetadata": document.metadata is not None and document.metadata.desired is not None}

    update("t5", desired={"log_level": "debug"}, version=1)
    conflict = expect("update/rejected")["update/rejected"]
    result["conflict"] = {"code": conflict.code, "message": conflict.message}
except queue.Empty:
    result["error"] = "no answer; so far: " + json.dumps(result, sort_keys=True, default=str)

connection.disconnect().result(10)
print(json.dumps(result, sort_keys=True, default=str))
