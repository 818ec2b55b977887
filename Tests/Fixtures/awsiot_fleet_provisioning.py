#!/usr/bin/env python3
"""The independent check of localcloud: AWS's own IoT Device SDK v2 for Python (awsiotsdk),
its iotidentity fleet-provisioning client, run against localcloud as it would run against AWS.

Usage: awsiot_fleet_provisioning.py HOST PORT CA CLAIM_CERT CLAIM_KEY TEMPLATE SERIAL csr|create-keys [CSR_FILE]
Prints one JSON object: what the SDK parsed from localcloud's replies.
"""
import json
import sys
import threading

from awscrt import mqtt
from awsiot import iotidentity, mqtt_connection_builder

host, port, ca, cert, key, template, serial, method = sys.argv[1:9]
csr = open(sys.argv[9]).read() if method == "csr" else None
QOS = mqtt.QoS.AT_LEAST_ONCE
result = {}
done = threading.Event()


def fail(response):
    result["rejected"] = {"statusCode": response.status_code, "errorCode": response.error_code,
                          "errorMessage": response.error_message}
    done.set()


connection = mqtt_connection_builder.mtls_from_path(
    endpoint=host, port=int(port), cert_filepath=cert, pri_key_filepath=key, ca_filepath=ca,
    client_id="awsiotsdk-" + serial, clean_session=True, keep_alive_secs=30)
connection.connect().result(15)
identity = iotidentity.IotIdentityClient(connection)


def on_certificate(response):
    result["certificateId"] = response.certificate_id
    result["certificatePemStarts"] = response.certificate_pem[:27]
    result["hasPrivateKey"] = getattr(response, "private_key", None) is not None
    result["token"] = response.certificate_ownership_token
    done.set()


if method == "csr":
    future, _ = identity.subscribe_to_create_certificate_from_csr_accepted(
        iotidentity.CreateCertificateFromCsrSubscriptionRequest(), QOS, on_certificate)
    future.result(10)
    future, _ = identity.subscribe_to_create_certificate_from_csr_rejected(
        iotidentity.CreateCertificateFromCsrSubscriptionRequest(), QOS, fail)
    future.result(10)
    identity.publish_create_certificate_from_csr(
        iotidentity.CreateCertificateFromCsrRequest(certificate_signing_request=csr), QOS).result(10)
else:
    future, _ = identity.subscribe_to_create_keys_and_certificate_accepted(
        iotidentity.CreateKeysAndCertificateSubscriptionRequest(), QOS, on_certificate)
    future.result(10)
    future, _ = identity.subscribe_to_create_keys_and_certificate_rejected(
        iotidentity.CreateKeysAndCertificateSubscriptionRequest(), QOS, fail)
    future.result(10)
    identity.publish_create_keys_and_certificate(iotidentity.CreateKeysAndCertificateRequest(), QOS).result(10)
if not done.wait(15):
    result["error"] = "no answer to the certificate request"
done.clear()

if "token" in result:
    def on_registered(response):
        result["thingName"] = response.thing_name
        result["deviceConfiguration"] = response.device_configuration
        done.set()

    future, _ = identity.subscribe_to_register_thing_accepted(
        iotidentity.RegisterThingSubscriptionRequest(template_name=template), QOS, on_registered)
    future.result(10)
    future, _ = identity.subscribe_to_register_thing_rejected(
        iotidentity.RegisterThingSubscriptionRequest(template_name=template), QOS, fail)
    future.result(10)
    identity.publish_register_thing(iotidentity.RegisterThingRequest(
        template_name=template, certificate_ownership_token=result.pop("token"),
        parameters={"SerialNumber": serial}), QOS).result(10)
    if not done.wait(15):
        result["error"] = "no answer to RegisterThing"

connection.disconnect().result(10)
print(json.dumps(result, sort_keys=True))
