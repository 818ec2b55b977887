#!/usr/bin/env python3
"""The independent check of localcloud's Jobs service: AWS's own IoT Device SDK v2 for Python
(awsiotsdk), its iotjobs client, taking a queued job through localcloud as a device would
through AWS IoT Jobs.

Usage: awsiot_jobs.py HOST PORT CA CERT KEY THING JOB_ID
Prints one JSON object: what the SDK parsed from localcloud's replies, step by step.
"""
import json
import queue
import sys

from awscrt import mqtt
from awsiot import iotjobs, mqtt_connection_builder

host, port, ca, cert, key, thing, job = sys.argv[1:8]
QOS = mqtt.QoS.AT_LEAST_ONCE
replies = queue.Queue()
result = {}

connection = mqtt_connection_builder.mtls_from_path(
    endpoint=host, port=int(port), cert_filepath=cert, pri_key_filepath=key, ca_filepath=ca,
    client_id="awsiotsdk-jobs", clean_session=True, keep_alive_secs=30)
connection.connect().result(15)
jobs = iotjobs.IotJobsClient(connection)


def on(kind):
    return lambda response: replies.put((kind, response))


def subscribe(method, request, kind):
    future, _ = method(request, QOS, on(kind))
    future.result(10)


subscribe(jobs.subscribe_to_next_job_execution_changed_events,
          iotjobs.NextJobExecutionChangedSubscriptionRequest(thing_name=thing), "notify-next")
subscribe(jobs.subscribe_to_start_next_pending_job_execution_accepted,
          iotjobs.StartNextPendingJobExecutionSubscriptionRequest(thing_name=thing), "start-next/accepted")
subscribe(jobs.subscribe_to_start_next_pending_job_execution_rejected,
          iotjobs.StartNextPendingJobExecutionSubscriptionRequest(thing_name=thing), "start-next/rejected")
subscribe(jobs.subscribe_to_update_job_execution_accepted,
          iotjobs.UpdateJobExecutionSubscriptionRequest(thing_name=thing, job_id=job), "update/accepted")
subscribe(jobs.subscribe_to_update_job_execution_rejected,
          iotjobs.UpdateJobExecutionSubscriptionRequest(thing_name=thing, job_id=job), "update/rejected")


def expect(*kinds):
    got = {}
    while not set(kinds) <= set(got):
        kind, response = replies.get(timeout=15)
        got[kind] = response
    return got


def start_next(token):
    jobs.publish_start_next_pending_job_execution(iotjobs.StartNextPendingJobExecutionRequest(
        thing_name=thing, client_token=token), QOS).result(10)


def update(token, status, details=None, expected=None):
    jobs.publish_update_job_execution(iotjobs.UpdateJobExecutionRequest(
        thing_name=thing, job_id=job, client_token=token, status=status, status_details=details,
        expected_version=expected, include_job_execution_state=True), QOS).result(10)


try:
    start_next("t1")
    started = expect("start-next/accepted")["start-next/accepted"]
    execution = started.execution
    result["started"] = {"jobId": execution.job_id, "status": execution.status, "versionNumber": execution.version_number,
                         "document": execution.job_document, "clientToken": started.client_token,
                         "hasTimes": execution.queued_at is not None and execution.started_at is not None}

    update("t2", "IN_PROGRESS", {"step": "downloading"})
    progress = expect("update/accepted")["update/accepted"]
    result["progress"] = {"status": progress.execution_state.status, "versionNumber": progress.execution_state.version_number}

    update("t3", "SUCCEEDED", {"version": "0.2.0"}, expected=1)
    conflict = expect("update/rejected")["update/rejected"]
    result["conflict"] = {"code": conflict.code, "status": conflict.execution_state.status}

    update("t4", "SUCCEEDED", {"version": "0.2.0"})
    got = expect("update/accepted", "notify-next")
    result["succeeded"] = {"status": got["update/accepted"].execution_state.status,
                           "details": got["update/accepted"].execution_state.status_details,
                           "nextIsEmpty": got["notify-next"].execution is None}

    update("t5", "FAILED")
    final = expect("update/rejected")["update/rejected"]
    result["final"] = {"code": final.code}

    start_next("t6")
    result["nothingPending"] = expect("start-next/accepted")["start-next/accepted"].execution is None
except queue.Empty:
    result["error"] = "no answer; so far: " + json.dumps(result, sort_keys=True, default=str)

connection.disconnect().result(10)
print(json.dumps(result, sort_keys=True, default=str))
