"""Tests of the monitor (monitor/): model, checker, recording, CLI, and against a real amqtt broker."""
