"""The engine's own work: reading the engine's messages back, and leaving the process as it found it."""

from __future__ import annotations

import gc

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from offline.engine import UNKNOWN, PlanError, SecretValue, _struct, run_plan
from tests.conftest import plan_error

WIRE = {
    "name": "nyc3-doks",
    "count": 3.0,
    "weight": 0.5,
    "enabled": True,
    "nothing": None,
    "endpoint": rpc.UNKNOWN,
    "token": {rpc._special_sig_key: rpc._special_secret_sig, "value": "s3cret"},
    "provider": {rpc._special_sig_key: rpc._special_resource_sig, "urn": "urn:pulumi:dev::marketplace::x::y"},
    "pools": [{"origins": [{"weight": 1.0, "header": {"hosts": ["a.example.com"]}}]}, 2.0, "text"],
}


def test_the_engines_messages_read_back_with_secret_marks_unknowns_and_whole_numbers():
    message = json_format.ParseDict(WIRE, struct_pb2.Struct())
    decoded = _struct(message)
    assert decoded == {
        "name": "nyc3-doks",
        "count": 3,
        "weight": 0.5,
        "enabled": True,
        "nothing": None,
        "endpoint": UNKNOWN,
        "token": SecretValue("s3cret"),
        "provider": "urn:pulumi:dev::marketplace::x::y",
        "pools": [{"origins": [{"weight": 1, "header": {"hosts": ["a.example.com"]}}]}, 2, "text"],
    }
    assert type(decoded["count"]) is int and type(decoded["weight"]) is float
    assert isinstance(decoded["token"], SecretValue)


# Refused by the program itself, so the engine ran it (the collector off) and stopped.
REFUSED_IN_THE_PROGRAM = {"marketplace:nodePool": {"size": "s-2vcpu-4gb", "minNodes": 0, "maxNodes": 3}}


def test_the_collector_is_back_as_it_was_after_the_program_runs():
    assert gc.isenabled()
    assert "minNodes" in plan_error("dev", overrides=REFUSED_IN_THE_PROGRAM)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(PlanError):
            run_plan("dev", overrides=REFUSED_IN_THE_PROGRAM)
        assert not gc.isenabled(), "a caller that had it off keeps it off"
    finally:
        gc.enable()
